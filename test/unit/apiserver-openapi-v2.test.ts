// The OpenAPI v2 document and its protobuf form (apiserver/openapi-v2.ts, openapi-v2-pb.ts).
import test from 'ava';
import { buildOpenAPIv2, v2Schema } from '../../agents/control-plane/apiserver/openapi-v2.ts';
import { openAPIv2Pb } from '../../agents/control-plane/apiserver/openapi-v2-pb.ts';
import { Registry } from '../../agents/control-plane/apiserver/registry.ts';

test('the v2 document converts refs, allOf wrappers and int-or-string, and keeps the kinds', (t) => {
  t.deepEqual(v2Schema({ allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }] }), { $ref: '#/definitions/io.k8s.api.core.v1.PodSpec' });
  t.deepEqual(v2Schema({ 'x-kubernetes-int-or-string': true }), { type: 'string', format: 'int-or-string' });
  const doc = buildOpenAPIv2(new Registry());
  t.is(doc.swagger, '2.0');
  const rc = doc.definitions['io.k8s.api.core.v1.ReplicationController'];
  t.deepEqual(rc['x-kubernetes-group-version-kind'], [{ group: '', version: 'v1', kind: 'ReplicationController' }]);
  t.is(rc.properties.spec.$ref, '#/definitions/io.k8s.api.core.v1.ReplicationControllerSpec');
  const post = doc.paths['/api/v1/namespaces/{namespace}/pods'].post;
  t.is(post.parameters[0].in, 'body');
  t.true(JSON.stringify(doc).indexOf('#/components/') < 0, 'no v3 refs left');
  const pb = openAPIv2Pb(doc);
  // Document.swagger = field 1 (tag 0x0a), "2.0"
  t.deepEqual([...pb.subarray(0, 5)], [0x0a, 3, 0x32, 0x2e, 0x30]);
  t.true(pb.includes(Buffer.from('x-kubernetes-group-version-kind')));
});
