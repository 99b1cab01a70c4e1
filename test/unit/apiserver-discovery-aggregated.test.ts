// Aggregated discovery (apiserver/discovery-aggregated.ts): chosen only when the Accept header asks for it first.
import test from 'ava';
import { aggregatedVersion } from '../../agents/control-plane/apiserver/discovery-aggregated.ts';

test('aggregated discovery is chosen only when asked for before plain JSON', (t) => {
  const kubectl =
    'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
  t.is(aggregatedVersion(kubectl), 'v2');
  t.is(aggregatedVersion('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList'), 'v2beta1');
  t.is(aggregatedVersion('application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'), undefined);
  t.is(aggregatedVersion(undefined), undefined);
  t.is(aggregatedVersion('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList'), undefined);
});
