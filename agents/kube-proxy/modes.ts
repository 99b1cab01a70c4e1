// The proxy modes, declared once: the options' type, every flag check (kube-proxy, agent,
// install, check-config), their help texts and the install settings derive from this list. A new
// mode is added here and given its backend in index.ts (makeBackend).
export const PROXY_MODES = ['iptables', 'nftables', 'ipvs'] as const;
export type ProxyMode = (typeof PROXY_MODES)[number];

export const isProxyMode = (m: string | undefined): m is ProxyMode => (PROXY_MODES as readonly (string | undefined)[]).includes(m);

/** "iptables, nftables or ipvs", for help texts and errors */
export const PROXY_MODE_LIST = `${PROXY_MODES.slice(0, -1).join(', ')} or ${PROXY_MODES[PROXY_MODES.length - 1]}`;

/** the flag's value as a mode, or upstream-style refusal naming the modes */
export function parseProxyMode(m: string | undefined): ProxyMode {
  if (!isProxyMode(m)) throw new Error(`--proxy-mode must be ${PROXY_MODE_LIST}, not "${m}"`);
  return m;
}
