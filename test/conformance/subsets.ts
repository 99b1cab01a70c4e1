// Named subsets of the suite, by exact title. "core" is what `make test` runs in CI time: one or
// two quick tests per area that matter most (pods reach each other across nodes, Services answer
// by ClusterIP and NodePort and track their pods, cluster DNS answers, kubectl works, the kubelet
// runs and restarts pods, the API's watch and namespace semantics hold).
export const SUBSETS: Record<string, string[]> = {
  core: [
    '[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: http [NodeConformance] [Conformance]',
    '[sig-network] Services should serve a basic endpoint from pods [Conformance]',
    '[sig-network] Services should be able to create a functioning NodePort service [Conformance]',
    '[sig-network] Services should be rejected when no endpoints exist',
    '[sig-network] DNS should provide DNS for the cluster [Conformance]',
    '[sig-network] API Server should provide secure master service [Conformance]',
    '[sig-network] Services should find a service from listing all namespaces [Conformance]',
    '[sig-network] Endpoints should test the lifecycle of an Endpoint [Conformance]',
    '[sig-cli] Kubectl client Kubectl api-versions should check if v1 is in available api versions [Conformance]',
    '[sig-cli] Kubectl client Kubectl version should check is all data is printed [Conformance]',
    '[sig-cli] Kubectl client Kubectl label should update the label on a resource [Conformance]',
    '[sig-cli] Kubectl client Kubectl run pod should create a pod from an image when restart is Never [Conformance]',
    '[sig-cli] Kubectl client Simple pod should support exec using resource/name',
    '[sig-cli] Kubectl logs logs should be able to retrieve and filter logs [Conformance]',
    '[sig-cli] Kubectl client Proxy server should support proxy with --port 0 [Conformance]',
    '[sig-api-machinery] server version should find the server version [Conformance]',
    '[sig-api-machinery] Namespaces [Serial] should patch a Namespace [Conformance]',
    '[sig-api-machinery] Namespaces [Serial] should ensure that all pods are removed when a namespace is deleted [Conformance]',
    '[sig-api-machinery] Watchers should observe add, update, and delete watch notifications on configmaps [Conformance]',
    '[sig-api-machinery] Watchers should be able to start watching from a specific resource version [Conformance]',
    '[sig-node] Pods should be submitted and removed [NodeConformance] [Conformance]',
    '[sig-node] Probing container should be restarted with a exec "cat /tmp/health" liveness probe [NodeConformance] [Conformance]',
    '[sig-node] ConfigMap should run through a ConfigMap lifecycle [Conformance]',
    '[sig-node] Secrets should patch a secret [Conformance]',
  ],
};
