// The proxy modes are declared once (kube-proxy/modes.ts): kube-proxy's and the agent's flags,
// install and check-config accept exactly those, and refuse anything else naming them.
import test from 'ava';
import { checkConfigOptions } from '../../agents/cli/check/command.ts';
import { settingsFromFlags } from '../../agents/cli/install/commands.ts';
import { PROXY_MODE_LIST, PROXY_MODES, parseProxyMode } from '../../agents/kube-proxy/modes.ts';

const installed = {
  role: 'agent' as const,
  clusterCIDR: '10.244.0.0/16',
  serviceCIDR: '10.96.0.0/12',
  podnetBackend: 'host-gw' as const,
  proxyMode: 'iptables' as const,
  sandboxImage: 'p',
  registryMirrors: {},
};

test('every declared mode is accepted by the flag parser, install and check-config', (t) => {
  t.deepEqual([...PROXY_MODES], ['iptables', 'nftables', 'ipvs']);
  for (const mode of PROXY_MODES) {
    t.is(parseProxyMode(mode), mode);
    t.is(settingsFromFlags({ proxyMode: mode }).proxyMode, mode);
    t.is(checkConfigOptions({ proxyMode: mode }, installed).proxyMode, mode);
  }
});

test('an undeclared mode is refused everywhere, with the declared modes named', (t) => {
  t.is(PROXY_MODE_LIST, 'iptables, nftables or ipvs');
  t.throws(() => parseProxyMode('userspace'), { message: '--proxy-mode must be iptables, nftables or ipvs, not "userspace"' });
  t.throws(() => checkConfigOptions({ proxyMode: 'userspace' }, installed), { message: '--proxy-mode must be iptables, nftables or ipvs, not "userspace"' });
  t.throws(() => settingsFromFlags({ proxyMode: 'userspace' }), { message: '--proxy-mode must be one of iptables, nftables, ipvs; got "userspace"' });
});
