// The kubelet server's request handlers (server/handlers.ts): log paths stay under the pod log directory.
import test from 'ava';
import { checkedLogPath } from '../../agents/kubelet/server/handlers.ts';
import { HttpError } from '../../agents/kubelet/server/status.ts';

test('log paths must lie under the pod log directory', (t) => {
  t.is(checkedLogPath('/var/log/pods', '/var/log/pods/ns_web_u1/app/0.log'), '/var/log/pods/ns_web_u1/app/0.log');
  for (const bad of ['/etc/shadow', '/var/log/pods/../../etc/shadow', '/var/log/podsx/a.log', '']) {
    t.throws(() => checkedLogPath('/var/log/pods', bad), { instanceOf: HttpError }, bad);
  }
});
