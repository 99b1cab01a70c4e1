// host-local's on-disk allocations, in the reference layout: <dataDir>/<network>/<ip> holding
// "<containerID>\r\n<ifname>", last_reserved_ip.<rangeIndex> holding the last address handed out,
// and a `lock` file. Callers hold the directory lock (see lock.ts) around every call.
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { formatIP, parseIP, type IP } from '../../agents/api/ip.ts';

const LAST_PREFIX = 'last_reserved_ip.';
const LINE_BREAK = '\r\n';

export class DiskStore {
  readonly dir: string;

  constructor(dataDir: string, network: string) {
    this.dir = join(dataDir, network);
    mkdirSync(this.dir, { recursive: true, mode: 0o755 });
  }

  /** Claim ip for (id, ifname); false when some other owner already has it. */
  reserve(id: string, ifname: string, ip: IP, rangeId: number): boolean {
    const name = formatIP(ip);
    const file = join(this.dir, name);
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    try {
      writeSync(fd, id.trim() + LINE_BREAK + ifname);
    } catch (e) {
      closeSync(fd);
      unlinkSync(file);
      throw e;
    }
    closeSync(fd);
    writeFileSync(join(this.dir, LAST_PREFIX + rangeId), name, { mode: 0o644 });
    return true;
  }

  lastReserved(rangeId: number): IP | undefined {
    try {
      return parseIP(readFileSync(join(this.dir, LAST_PREFIX + rangeId), 'utf8')) ?? undefined;
    } catch {
      return undefined;
    }
  }

  /** Every allocation file as [ip, owner text]; the lock and last-reserved files are not allocations. */
  entries(): Array<{ file: string; ip: IP | null; owner: string }> {
    const out: Array<{ file: string; ip: IP | null; owner: string }> = [];
    for (const d of readdirSync(this.dir, { withFileTypes: true })) {
      if (!d.isFile()) continue;
      let owner: string;
      try {
        owner = readFileSync(join(this.dir, d.name), 'utf8').trim();
      } catch {
        continue;
      }
      out.push({ file: join(this.dir, d.name), ip: parseIP(d.name), owner });
    }
    return out;
  }

  private matching(id: string, ifname: string): Array<{ file: string; ip: IP | null }> {
    const exact = id.trim() + LINE_BREAK + ifname;
    const all = this.entries();
    const hits = all.filter((e) => e.owner === exact);
    // files written by old versions hold only the container ID
    return hits.length ? hits : all.filter((e) => e.owner === id.trim());
  }

  getByID(id: string, ifname: string): IP[] {
    const exact = id.trim() + LINE_BREAK + ifname;
    return this.entries()
      .filter((e) => e.ip && (e.owner === exact || e.owner === id.trim()))
      .map((e) => e.ip as IP);
  }

  findByID(id: string, ifname: string): boolean {
    return this.matching(id, ifname).length > 0;
  }

  releaseByID(id: string, ifname: string): void {
    for (const e of this.matching(id, ifname)) {
      try {
        unlinkSync(e.file);
      } catch {
        /* already gone */
      }
    }
  }

  releaseFile(file: string): void {
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}
