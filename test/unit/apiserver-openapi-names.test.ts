// OpenAPI component names of built-in models are upstream's, after their Go packages (openapi-names.ts).
import test from 'ava';
import { componentName } from '../../agents/control-plane/apiserver/openapi.ts';
import { buildOpenAPIv2 } from '../../agents/control-plane/apiserver/openapi-v2.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';

test('built-in models are named after their Go packages', (t) => {
  const cases: [string, string][] = [
    ['V1ObjectMeta', 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'],
    ['V1LabelSelector', 'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'],
    ['V1Pod', 'io.k8s.api.core.v1.Pod'],
    ['V1Deployment', 'io.k8s.api.apps.v1.Deployment'],
    ['V1DeploymentSpec', 'io.k8s.api.apps.v1.DeploymentSpec'],
    ['V1PodTemplateSpec', 'io.k8s.api.core.v1.PodTemplateSpec'],
    ['V2MetricSpec', 'io.k8s.api.autoscaling.v2.MetricSpec'],
    ['V1IngressBackend', 'io.k8s.api.networking.v1.IngressBackend'],
    ['V1CustomResourceDefinition', 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition'],
    ['V1APIService', 'io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIService'],
    ['CoreV1Event', 'io.k8s.api.core.v1.Event'],
    ['DiscoveryV1EndpointPort', 'io.k8s.api.discovery.v1.EndpointPort'],
    ['V1Eviction', 'io.k8s.api.policy.v1.Eviction'],
    ['example.com/v1/Widget', 'com.example.v1.Widget'],
  ];
  t.deepEqual(
    cases.map(([m]) => [m, componentName(m)]),
    cases,
  );
});

test('the published kinds carry their group-version-kind, and refs name the shared types by package', (t) => {
  const d = buildOpenAPIv2(new Registry()).definitions;
  t.deepEqual(d['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  t.is(d['io.k8s.api.apps.v1.Deployment'].properties.metadata.$ref, '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
  t.is(d['io.k8s.api.apps.v1.DeploymentSpec'].properties.template.$ref, '#/definitions/io.k8s.api.core.v1.PodTemplateSpec');
  t.falsy(d['io.k8s.api.core.v1.ObjectMeta'], 'no core/v1 copy of the meta types');
  t.falsy(d['io.k8s.api.core.v1.Deployment']);
});
