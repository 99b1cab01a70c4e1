// Named subsets of the suite, by exact title. "core" is the quick check of a cluster: one or
// two quick tests per area that matter most (pods reach each other across nodes, Services answer
// by ClusterIP and NodePort and track their pods, cluster DNS answers, kubectl works, the kubelet
// runs and restarts pods, the API's watch and namespace semantics hold).
const CORE = [
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
];

// What make test runs besides core: everything the open issues ask to see on a lab (a Deployment
// behind ClusterIP and NodePort, cluster DNS, the workload controllers, node failure).
const LAB_ISSUES = [
  '[sig-network] [hawser] a Deployment behind a ClusterIP and a NodePort Service answers from pods on both nodes',
  '[sig-network] [hawser] a ClusterFirst pod gets cluster DNS, the namespace search path and ndots:5 in /etc/resolv.conf',
  '[sig-network] DNS should provide DNS for the cluster [Conformance]',
  '[sig-network] DNS should provide DNS for services [Conformance]',
  '[sig-network] DNS should resolve DNS of partial qualified names for services [LinuxOnly] [Conformance]',
  '[sig-network] DNS should provide DNS for pods for Hostname [Conformance]',
  '[sig-network] DNS should provide DNS for pods for Subdomain [Conformance]',
  '[sig-network] DNS should provide DNS for ExternalName services [Conformance]',
  '[sig-network] DNS should support configurable pod DNS nameservers [Conformance]',
  '[sig-network] [hawser] a deleted Service stops resolving within a few seconds',
  '[sig-network] [hawser] 1,000 queries from a pod are answered with no loss',
  '[sig-apps] [hawser] a Deployment of 3 scales to 10 and to 2',
  '[sig-apps] [hawser] a rolling image update keeps replicas - maxUnavailable pods Ready; rollout undo returns to the old image',
  '[sig-apps] [hawser] a DaemonSet runs one pod per node',
  '[sig-apps] [hawser] a Job of 5 completions with parallelism 2 completes',
  '[sig-apps] [hawser] a StatefulSet creates its pods in order',
  '[sig-apps] [hawser] deleting a Deployment removes its ReplicaSets and pods',
  '[sig-apps] [hawser] a node whose kubelet stops turns NotReady after the grace period and its pods are replaced on the other node',
  // #15 ServiceAccount tokens: an in-cluster client with its own identity
  '[sig-auth] [hawser] a pod lists pods in its namespace with its ServiceAccount token, is refused secrets, and loses pods with the binding',
  '[sig-auth] ServiceAccounts should mount an API token into pods [Conformance]',
  '[sig-auth] SubjectReview should support SubjectReview API operations [Conformance]',
  '[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] patching/updating a validating webhook should work [Conformance]',
  '[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate configmap [Conformance]',
  '[sig-auth] ServiceAccounts ServiceAccountIssuerDiscovery should support OIDC discovery of service account issuer [Conformance]',
  '[sig-network] [hawser] NetworkPolicy default deny ingress: no pod reaches the isolated pods, which still reach out',
  '[sig-network] [hawser] NetworkPolicy update: a running connection keeps flowing, new connections follow the new policy',
  // #19 a LoadBalancer Service reachable at its ingress address, only where an endpoint is under Local
  '[sig-network] [hawser] a LoadBalancer Service of externalTrafficPolicy Local answers at the ingress address of the node with its endpoint, not at the other',
  // #18 storage: claims bound where their pods run, data kept across pod deletion; a pod volume updating live
  "[sig-storage] a StatefulSet with a claim template keeps each pod's data across pod deletion; deleting the claims removes the directories",
  '[sig-storage] a WaitForFirstConsumer claim binds only once its pod is scheduled, on that node',
  // #16 clients other than kubectl, and kubectl debug
  '[sig-cli] [hawser] client-node Exec over WebSocket v5: output, stderr and the exit code in the status channel',
  '[sig-cli] [hawser] python3-kubernetes stream(): exec output, stdin and the exit code',
  '[sig-cli] [hawser] helm v4 installs, upgrades, rolls back, tests and uninstalls a chart made by helm create',
  "[sig-cli] [hawser] kubectl debug --target starts an ephemeral container that sees the target's processes",
  // #16 the lab's API server reaches pods: kubectl proxy, services/proxy, the Proxy mirrors; kubectl debug -i
  "[sig-cli] [hawser] kubectl debug -i --target runs a shell fed on stdin that prints the target's processes",
  "[sig-cli] [hawser] kubectl proxy and get --raw reach a Service's and a pod's HTTP through the API server; no endpoints is a 503",
  '[sig-network] Proxy version v1 A set of valid responses are returned for both pod and service ProxyWithPath [Conformance]',
  '[sig-network] Proxy version v1 A set of valid responses are returned for both pod and service Proxy [Conformance]',
  '[sig-network] Proxy version v1 should proxy through a service and a pod [Conformance]',
  // #17 custom resources
  '[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] Simple CustomResourceDefinition creating/deleting custom resource definition objects works [Conformance]',
  "[sig-api-machinery] AdmissionWebhook [Privileged:ClusterAdmin] should mutate everything except 'skip-me' configmaps [Conformance]",
  // #17 API aggregation: an aggregated API server's group in discovery and answering through the API server
  '[sig-api-machinery] Aggregator Should be able to support the 1.17 Sample API Server using the current Aggregator [LinuxOnly] [Conformance]',
  // #17 webhooks and an aggregated API served by a pod of the lab's testapp image (porter), about 35 s
  '[sig-api-machinery] [hawser] a validating and a mutating webhook served by a pod deny and mutate configmap creates',
  '[sig-api-machinery] [hawser] a pod webhook that answers after 5 s is cut at timeoutSeconds 1: the create fails under failurePolicy Fail and passes under Ignore',
  '[sig-api-machinery] [hawser] an aggregated API served by a pod becomes Available, appears in discovery and answers kubectl get through the API server',
  // #19 Ingress: the API and the built-in controller with real requests
  '[sig-network] Ingress API should support creating Ingress API operations [Conformance]',
  '[sig-network] [hawser] Ingress routes by host and path over HTTP, serves HTTPS by SNI, and a path change takes effect without a failed request',
];

export const SUBSETS: Record<string, string[]> = {
  core: CORE,
  ci: [...CORE, ...LAB_ISSUES.filter((t) => !CORE.includes(t))],
};
