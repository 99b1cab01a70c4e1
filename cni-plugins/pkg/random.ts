// Random names and hardware addresses for the links the plugins create.
import { randomBytes } from 'node:crypto';

/** "veth" + 8 hex digits, the reference's host-side naming (NetworkManager ignores veth*). */
export function randomVethName(): string {
  return 'veth' + randomBytes(4).toString('hex');
}

/** A random unicast, locally administered MAC, like the kernel's eth_random_addr. */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0] & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
