import test from 'ava';
import {
  fromLabelSelector,
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
} from '../../agents/control-plane/apiserver/selectors.ts';

const L = { app: 'web', tier: 'frontend', version: '3' };

const m = (sel: string, labels: Record<string, string> | undefined = L) => matchLabels(parseLabelSelector(sel), labels);

test('label selector equality forms', (t) => {
  t.true(m('app=web'));
  t.true(m('app==web'));
  t.false(m('app=api'));
  t.true(m('app!=api'));
  t.true(m('missing!=x'), 'a missing key satisfies !=');
  t.true(m('app=web,tier=frontend'));
  t.false(m('app=web,tier=backend'));
  t.true(m(''), 'empty selector matches everything');
});

test('label selector set forms and existence', (t) => {
  t.true(m('app in (web, api)'));
  t.false(m('app in (api)'));
  t.true(m('app notin (api,db)'));
  t.false(m('app notin (web)'));
  t.true(m('missing notin (x)'));
  t.true(m('tier'));
  t.false(m('missing'));
  t.true(m('!missing'));
  t.false(m('!app'));
  t.true(m('version>2'));
  t.false(m('version<2'));
  t.true(m('app in (web),!missing,tier'));
});

test('label selector syntax errors', (t) => {
  t.throws(() => parseLabelSelector('app=we b'), { instanceOf: SelectorError });
  t.throws(() => parseLabelSelector('app=web,'), { instanceOf: SelectorError });
  t.throws(() => parseLabelSelector('-bad=x'), { instanceOf: SelectorError });
  t.throws(() => parseLabelSelector('a in b'), { instanceOf: SelectorError });
});

test('metav1.LabelSelector converts to requirements', (t) => {
  const reqs = fromLabelSelector({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'tier', operator: 'In', values: ['frontend'] },
      { key: 'gone', operator: 'DoesNotExist' },
    ],
  });
  t.true(matchLabels(reqs, L));
  t.false(matchLabels(reqs, { app: 'web', tier: 'x' }));
  t.throws(() => fromLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Like' }] }), { instanceOf: SelectorError });
});

test('field selectors', (t) => {
  const f = { 'metadata.name': 'web', 'spec.nodeName': 'node-a', 'status.phase': 'Running' };
  t.true(matchFields(parseFieldSelector('spec.nodeName=node-a'), f));
  t.true(matchFields(parseFieldSelector('spec.nodeName==node-a,status.phase!=Pending'), f));
  t.false(matchFields(parseFieldSelector('spec.nodeName='), f));
  t.true(matchFields(parseFieldSelector('spec.nodeName='), { ...f, 'spec.nodeName': '' }), 'empty value selects unscheduled pods');
  t.deepEqual(parseFieldSelector('metadata.name=a\\,b'), [{ field: 'metadata.name', op: '=', value: 'a,b' }]);
  t.throws(() => parseFieldSelector('nonsense'), { instanceOf: SelectorError });
});
