// Values from the runtime in the API's forms (pods/runtime-values.ts).
import test from 'ava';
import { nsToDate, rfc3339 } from '../../agents/kubelet/pods/runtime-values.ts';

test('CRI nanosecond timestamps become RFC 3339 seconds', (t) => {
  t.is(rfc3339(nsToDate(1_700_000_000_123_456_789)), '2023-11-14T22:13:20Z');
  t.is(nsToDate(0), undefined);
});
