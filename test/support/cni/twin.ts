// Twin worlds for differential tests: the same requests go to our plugins and to the reference ones,
// each flavour with its own "host" namespace, container namespaces and IPAM data dir, so that names,
// subnets and configs can be identical on both sides.
import { join } from 'node:path';
import { invoke, REFERENCE_BIN, type Invocation, type Outcome } from './invoke.ts';
import { Sandbox } from './netns.ts';
import { startDaemon, type RunningDaemon } from './daemon.ts';
import { snapshotFiles, snapshotNs, type NsSnapshot } from './snapshot.ts';

export type Flavour = 'ours' | 'ref';
export const FLAVOURS: Flavour[] = ['ours', 'ref'];

export interface World {
  flavour: Flavour;
  binDir: string;
  hostNs: string;
  dataDir: string;
  containers: Map<string, string>; // container id -> netns name
}

type Json = Record<string, unknown>;

export class Twin {
  readonly sb = new Sandbox();
  readonly worlds = {} as Record<Flavour, World>;

  daemon?: RunningDaemon;
  private readonly oursEnv: Record<string, string> = {};

  /** With `daemon`, ours runs as shim + resident daemon (the bin dir must hold the shim build). */
  constructor(
    private readonly oursBin: string,
    private readonly opts: { daemon?: boolean } = {},
  ) {}

  async init(): Promise<this> {
    for (const f of FLAVOURS) {
      const hostNs = await this.sb.netns(`${f}-h`);
      this.worlds[f] = {
        flavour: f,
        binDir: f === 'ours' ? this.oursBin : REFERENCE_BIN,
        hostNs,
        dataDir: join(this.sb.dir, f, 'ipam'),
        containers: new Map(),
      };
    }
    if (this.opts.daemon) {
      const runDir = join(this.sb.dir, 'run');
      this.oursEnv.HAWSER_CNI_RUN_DIR = runDir;
      this.daemon = await startDaemon(this.oursBin, this.worlds.ours.hostNs, runDir);
    }
    return this;
  }

  /** The config for one flavour: its own IPAM dataDir for "@DATADIR@", the shared sandbox dir for "@DIR@". */
  confFor(f: Flavour, conf: unknown): string {
    return (typeof conf === 'string' ? conf : JSON.stringify(conf)).replaceAll('@DATADIR@', this.worlds[f].dataDir).replaceAll('@DIR@', this.sb.dir);
  }

  async container(f: Flavour, id: string): Promise<string> {
    const w = this.worlds[f];
    let ns = w.containers.get(id);
    if (!ns) {
      ns = await this.sb.netns(`${f[0]}${w.containers.size}`);
      w.containers.set(id, ns);
    }
    return ns;
  }

  /** Run one verb in one flavour; `netns: null` leaves CNI_NETNS unset, a string overrides it. */
  async run(f: Flavour, plugin: string, inv: Omit<Invocation, 'netns'> & { netns?: string | null }, conf: unknown): Promise<Outcome> {
    const w = this.worlds[f];
    let netns: string | undefined;
    if (inv.netns === null) netns = undefined;
    else if (inv.netns !== undefined) netns = inv.netns;
    else if (inv.containerId) netns = this.sb.path(await this.container(f, inv.containerId));
    const env = f === 'ours' ? { ...this.oursEnv, ...inv.env } : inv.env;
    return invoke(w.binDir, plugin, w.hostNs, { ...inv, netns, env }, this.confFor(f, conf));
  }

  async both(plugin: string, inv: Omit<Invocation, 'netns'> & { netns?: string | null }, conf: unknown): Promise<Record<Flavour, Outcome>> {
    return { ours: await this.run('ours', plugin, inv, conf), ref: await this.run('ref', plugin, inv, conf) };
  }

  async state(f: Flavour): Promise<{ host: NsSnapshot; containers: Record<string, NsSnapshot>; files: Record<string, string> }> {
    const w = this.worlds[f];
    const containers: Record<string, NsSnapshot> = {};
    for (const [id, ns] of w.containers) containers[id] = await snapshotNs(ns);
    return { host: await snapshotNs(w.hostNs, { kernelTimed: true }), containers, files: snapshotFiles(w.dataDir) };
  }

  async cleanup(): Promise<void> {
    await this.daemon?.stop();
    await this.sb.cleanup();
  }
}

export function errorCode(o: Outcome): number | null {
  return o.exitCode === 0 ? null : typeof o.json?.code === 'number' ? (o.json.code as number) : -1;
}

export type { Json };
