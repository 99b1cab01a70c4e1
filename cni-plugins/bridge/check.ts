// bridge CHECK: placeholder, replaced below.
import type { CmdArgs } from '../skel/skel.ts';
export async function cmdCheck(_a: CmdArgs): Promise<undefined> {
  return undefined;
}
