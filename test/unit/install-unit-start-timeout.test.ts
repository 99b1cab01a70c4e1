// The units whose readiness waits on the cluster (the control plane serving, the agents registered)
// must not time out starting: systemd's default 90 s kills a control plane that is still starting on
// a slow host (the QEMU VM test's, in software emulation), then restarts it, forever.
import test from 'ava';
import { readFileSync } from 'node:fs';

const SYSTEMD = new URL('../../systemd', import.meta.url).pathname;
const UNITS = ['hawser-control-plane.service', 'hawser-agent.service', 'hawser-kubelet.service', 'hawser-podnet.service', 'hawser-kube-proxy.service'];

test('each unit that reports READY once the cluster answers has TimeoutStartSec=0', (t) => {
  for (const u of UNITS) {
    const text = readFileSync(`${SYSTEMD}/${u}`, 'utf8');
    t.regex(text, /^Type=notify$/m, u);
    t.regex(text, /^TimeoutStartSec=0$/m, `${u}: no start timeout`);
  }
});
