// Source NAT for a container address (the bridge plugin's ipMasq): a per-container chain in the nat
// table, ACCEPT for its own subnet, MASQUERADE for everything but multicast, and a POSTROUTING jump.
// Same chain name, comment and rules as the reference, so either can clean up after the other.
import { createHash } from 'node:crypto';
import { parseCIDR, formatIP } from '../../agents/api/ip.ts';
import { run, runOk } from './exec.ts';

const MAX_CHAIN = 28;

/** "CNI-" + sha512(name+id) in hex, cut to 28 characters. */
export function chainName(network: string, containerId: string, prefix = ''): string {
  return (
    'CNI-' +
    prefix +
    createHash('sha512')
      .update(network + containerId)
      .digest('hex')
  ).slice(0, MAX_CHAIN);
}

/** Go's fmt %q of two strings, the comment the reference puts on every rule. */
export function chainComment(network: string, containerId: string): string {
  return `name: ${JSON.stringify(network)} id: ${JSON.stringify(containerId)}`;
}

function tool(v6: boolean): string {
  return v6 ? 'ip6tables' : 'iptables';
}

export async function setupIPMasq(address: string, chain: string, comment: string): Promise<void> {
  const c = parseCIDR(address);
  if (!c) throw new Error(`invalid address ${address}`);
  const v6 = c.ip.v === 6;
  const multicast = v6 ? 'ff00::/8' : '224.0.0.0/4';
  const jump = ['-s', formatIP(c.ip), '-j', chain, '-m', 'comment', '--comment', comment];
  const exists = (await run(tool(v6), ['-w', '-t', 'nat', '-C', 'POSTROUTING', ...jump])).code === 0;
  const q = JSON.stringify(comment);
  const lines = [
    '*nat',
    `:${chain} - [0:0]`,
    `-A ${chain} -d ${address} -j ACCEPT -m comment --comment ${q}`,
    `-A ${chain} ! -d ${multicast} -j MASQUERADE -m comment --comment ${q}`,
  ];
  if (!exists) lines.push(`-A POSTROUTING -s ${formatIP(c.ip)} -j ${chain} -m comment --comment ${q}`);
  lines.push('COMMIT', '');
  await runOk(`${tool(v6)}-restore`, ['-w', '--noflush'], { input: lines.join('\n') });
}

export async function teardownIPMasq(address: string, chain: string, comment: string): Promise<void> {
  const c = parseCIDR(address);
  if (!c) return;
  const t = tool(c.ip.v === 6);
  const tail = ['-j', chain, '-m', 'comment', '--comment', comment];
  // the second form is what very old plugin versions wrote; absence of either is fine
  await run(t, ['-w', '-t', 'nat', '-D', 'POSTROUTING', '-s', formatIP(c.ip), ...tail]);
  await run(t, ['-w', '-t', 'nat', '-D', 'POSTROUTING', '-s', address, ...tail]);
  await run(t, ['-w', '-t', 'nat', '-F', chain]);
  await run(t, ['-w', '-t', 'nat', '-X', chain]);
}
