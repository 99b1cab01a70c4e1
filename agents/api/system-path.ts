// The PATH for running system tools (ip, iptables, nft, umount). Under npm, node_modules/.bin comes
// first in PATH, and it holds an unrelated `nft` (@vercel/nft, pulled in by ava).
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export const systemEnv = (): NodeJS.ProcessEnv => ({ ...process.env, PATH: SYSTEM_PATH });
