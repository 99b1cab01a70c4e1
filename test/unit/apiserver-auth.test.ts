import test from 'ava';
import { attributesFor, selectedValue } from '../../agents/control-plane/auth/attributes.ts';
import { forbiddenError, UnionAuthorizer } from '../../agents/control-plane/auth/authorizer.ts';
import { podReferences } from '../../agents/control-plane/auth/graph.ts';
import { nodeAdmission, nodeNameOf } from '../../agents/control-plane/auth/node.ts';
import { ruleAllows, StaticRuleAuthorizer } from '../../agents/control-plane/auth/rules.ts';
import { csvFields, parseTokenFile, TokenAuthenticator } from '../../agents/control-plane/auth/tokens.ts';

const user = (name: string, ...groups: string[]) => ({ name, groups: [...groups, 'system:authenticated'] });
const q = (s = '') => new URLSearchParams(s);

test('request attributes follow the URL, and a single-object list names its object', (t) => {
  const u = user('u');
  t.like(attributesFor('PATCH', '/api/v1/nodes/n1/status', q(), u), {
    verb: 'patch',
    resource: 'nodes',
    subresource: 'status',
    name: 'n1',
    namespace: '',
    resourceRequest: true,
  });
  t.like(attributesFor('GET', '/api/v1/namespaces/d/secrets', q('fieldSelector=metadata.name%3Ds1&watch=1'), u), { verb: 'watch', name: 's1', namespace: 'd' });
  t.like(attributesFor('GET', '/api/v1/pods', q('fieldSelector=spec.nodeName%3Dn1'), u), { verb: 'list', nodeNameSelector: 'n1', name: '' });
  t.like(attributesFor('GET', '/apis/apps/v1', q(), u), { verb: 'get', resourceRequest: false, path: '/apis/apps/v1' });
  t.like(attributesFor('POST', '/api/v1/namespaces/d/pods/p/eviction', q(), u), { verb: 'create', subresource: 'eviction' });
  t.is(selectedValue('a=b,metadata.name==x', 'metadata.name'), 'x');
  t.is(selectedValue('metadata.name!=x', 'metadata.name'), undefined);
  t.is(selectedValue('((', 'metadata.name'), undefined);
});

test('403 messages read as upstream writes them', (t) => {
  const a = attributesFor('GET', '/api/v1/namespaces/default/secrets/s', q(), user('system:node:n1', 'system:nodes'));
  const e = forbiddenError(a, "no relationship found between node 'n1' and this object");
  t.is(e.code, 403);
  t.is(
    e.message,
    `secrets "s" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node 'n1' and this object`,
  );
  t.deepEqual(e.toStatus().details, { name: 's', group: undefined, kind: 'secrets' });
  const l = forbiddenError(attributesFor('GET', '/apis/apps/v1/deployments', q(), user('alice')));
  t.is(l.message, 'deployments.apps is forbidden: User "alice" cannot list resource "deployments" in API group "apps" at the cluster scope');
  t.is(forbiddenError(attributesFor('GET', '/metrics', q(), user('alice'))).message, 'forbidden: User "alice" cannot get path "/metrics"');
});

test('policy rules: verbs, groups, subresources, names and URL prefixes', (t) => {
  const a = (m: string, p: string, s = '') => attributesFor(m, p, q(s), user('x'));
  t.true(ruleAllows({ verbs: ['patch'], apiGroups: [''], resources: ['nodes/status'] }, a('PATCH', '/api/v1/nodes/n/status')));
  t.false(ruleAllows({ verbs: ['patch'], apiGroups: [''], resources: ['nodes'] }, a('PATCH', '/api/v1/nodes/n/status')));
  t.true(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['*/status'] }, a('GET', '/api/v1/nodes/n/status')));
  t.false(ruleAllows({ verbs: ['get'], apiGroups: ['apps'], resources: ['*'] }, a('GET', '/api/v1/pods')));
  t.true(ruleAllows({ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }, a('GET', '/api/v1/namespaces/d/pods/p')));
  t.false(ruleAllows({ verbs: ['list'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }, a('GET', '/api/v1/namespaces/d/pods')));
  t.true(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis/*'] }, a('GET', '/apis/apps/v1')));
  t.false(ruleAllows({ verbs: ['get'], nonResourceURLs: ['/apis'] }, a('GET', '/apis/apps/v1')));
});

test('static identities: admins everything, scheduler binds, plain users only discovery and self reviews', async (t) => {
  const z = new UnionAuthorizer([new StaticRuleAuthorizer()]);
  const d = (u: ReturnType<typeof user>, m: string, p: string) => z.authorize(attributesFor(m, p, q(), u)).then((x) => x.decision);
  t.is(await d(user('admin', 'system:masters'), 'DELETE', '/api/v1/nodes/n'), 'allow');
  t.is(await d(user('system:kube-scheduler'), 'POST', '/api/v1/namespaces/d/pods/p/binding'), 'allow');
  t.is(await d(user('system:kube-scheduler'), 'GET', '/api/v1/namespaces/d/secrets/s'), 'noOpinion');
  t.is(await d(user('alice'), 'GET', '/apis'), 'allow');
  t.is(await d(user('alice'), 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'), 'allow');
  t.is(await d(user('alice'), 'GET', '/api/v1/namespaces/d/pods'), 'noOpinion');
  t.is(await d({ name: 'system:anonymous', groups: ['system:unauthenticated'] }, 'GET', '/healthz'), 'allow');
  t.is(await d({ name: 'system:anonymous', groups: ['system:unauthenticated'] }, 'GET', '/api'), 'noOpinion');
});

test('node identities need both the name prefix and the group', (t) => {
  t.is(nodeNameOf(user('system:node:n1', 'system:nodes')), 'n1');
  t.is(nodeNameOf(user('system:node:n1')), undefined);
  t.is(nodeNameOf(user('n1', 'system:nodes')), undefined);
});

test('NodeRestriction on create bodies', (t) => {
  const u = user('system:node:n1', 'system:nodes');
  const at = (p: string) => attributesFor('POST', p, q(), u);
  t.is(nodeAdmission(at('/api/v1/nodes'), { metadata: { name: 'n1' } }), undefined);
  t.regex(nodeAdmission(at('/api/v1/nodes'), { metadata: { name: 'n2' } })!.message, /^nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"$/);
  t.regex(
    nodeAdmission(at('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'), { metadata: { name: 'n2' } })!.message,
    /can only access node lease/,
  );
  const mirror = { metadata: { name: 'm', annotations: { 'kubernetes.io/config.mirror': 'x' } }, spec: { nodeName: 'n1', containers: [{ name: 'c' }] } };
  t.is(nodeAdmission(at('/api/v1/namespaces/d/pods'), mirror), undefined);
  t.regex(nodeAdmission(at('/api/v1/namespaces/d/pods'), { ...mirror, metadata: { name: 'm' } })!.message, /can only create mirror pods/);
  t.regex(
    nodeAdmission(at('/api/v1/namespaces/d/pods'), { ...mirror, spec: { ...mirror.spec, volumes: [{ name: 'v', secret: { secretName: 's' } }] } })!.message,
    /can not create pods that reference secrets/,
  );
  // only kubelets are restricted
  t.is(nodeAdmission(attributesFor('POST', '/api/v1/namespaces/d/pods', q(), user('admin', 'system:masters')), {}), undefined);
});

test('podReferences finds every secret, configmap, service account and claim a pod uses', (t) => {
  const refs = podReferences({
    metadata: { name: 'p' },
    spec: {
      serviceAccountName: 'sa',
      imagePullSecrets: [{ name: 'pull' }],
      containers: [
        {
          env: [{ valueFrom: { secretKeyRef: { name: 'env-s' } } }, { valueFrom: { configMapKeyRef: { name: 'env-c' } } }],
          envFrom: [{ secretRef: { name: 'from-s' } }],
        },
      ],
      initContainers: [{ envFrom: [{ configMapRef: { name: 'init-c' } }] }],
      volumes: [
        { name: 'a', secret: { secretName: 'vol-s' } },
        { name: 'b', configMap: { name: 'vol-c' } },
        { name: 'c', projected: { sources: [{ secret: { name: 'proj-s' } }, { configMap: { name: 'proj-c' } }] } },
        { name: 'd', persistentVolumeClaim: { claimName: 'claim' } },
        { name: 'e', ephemeral: {} },
        { name: 'f', csi: { nodePublishSecretRef: { name: 'csi-s' } } },
      ],
    },
  })
    .map((r) => `${r.kind}/${r.name}`)
    .sort();
  t.deepEqual(refs, [
    'configmaps/env-c',
    'configmaps/init-c',
    'configmaps/proj-c',
    'configmaps/vol-c',
    'persistentvolumeclaims/claim',
    'persistentvolumeclaims/p-e',
    'secrets/csi-s',
    'secrets/env-s',
    'secrets/from-s',
    'secrets/proj-s',
    'secrets/pull',
    'secrets/vol-s',
    'serviceaccounts/sa',
  ]);
});

test('token file: CSV with quoted groups; bearer lookup', (t) => {
  t.deepEqual(csvFields('a,"b,c",d'), ['a', 'b,c', 'd']);
  t.deepEqual(csvFields('a,"say ""hi"""'), ['a', 'say "hi"']);
  const tokens = parseTokenFile('# comment\n\ntok1,alice,1,"dev,ops"\ntok2,bob,2\n');
  t.deepEqual(tokens.get('tok1'), { name: 'alice', uid: '1', groups: ['dev', 'ops'] });
  const auth = new TokenAuthenticator(tokens);
  t.deepEqual(auth.authenticate('Bearer tok2'), { name: 'bob', uid: '2', groups: ['system:authenticated'] });
  t.is(auth.authenticate('Bearer nope'), undefined);
  t.is(auth.authenticate('Basic tok2'), undefined);
  t.throws(() => parseTokenFile('tok,alice'), { message: /want token,user,uid/ });
  t.throws(() => parseTokenFile('t,a,1\nt,b,2'), { message: /duplicate/ });
});
