// Runs one node's containerd: inside the node's network namespace when given, ready once CRI
// answers Version. stop() ends containerd only; the shims keep the containers running, as a
// containerd restart on a real node would.
import * as grpc from '@grpc/grpc-js';
import { CriClient, CriError } from './client.ts';
import { NotStartingError, spawnDaemon, stopPid, waitReady } from './daemon.ts';

export interface ContainerdHandle {
  pid: number;
  stop(): Promise<void>;
}

export async function startContainerd(o: {
  netnsPath?: string;
  configPath: string;
  logFile: string;
  socket: string;
  /** Default 30 s: a cold start with a fresh root takes about a second here. */
  readyTimeoutMs?: number;
}): Promise<ContainerdHandle> {
  const d = spawnDaemon({ cmd: 'containerd', args: ['--config', o.configPath], logFile: o.logFile, netnsPath: o.netnsPath });
  const client = new CriClient(o.socket, { timeoutMs: 1_000 });
  try {
    const probe = async () => {
      try {
        return (await client.version()).runtimeApiVersion !== '';
      } catch (e) {
        // containerd serves, but without the CRI plugin (it failed to load): see the log
        if (e instanceof CriError && e.code === grpc.status.UNIMPLEMENTED) throw new NotStartingError('CRI plugin not loaded');
        throw e;
      }
    };
    await waitReady(d, 'containerd', o.logFile, probe, o.readyTimeoutMs ?? 30_000);
  } catch (e) {
    await stopPid(d.pid, 2_000).catch(() => undefined);
    throw e;
  } finally {
    client.close();
  }
  return { pid: d.pid, stop: () => stopPid(d.pid, 10_000) };
}
