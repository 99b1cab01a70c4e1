// Upstream's AvailableConditionController: every APIService's Available condition. A Local one is
// always available; one with a Service needs the Service (ServiceNotFound), a ready endpoint
// (MissingEndpoints) and a 2xx answer to GET /apis/<group>/<version> over the same TLS and
// front-proxy identity the proxy uses, within 5 s (FailedDiscoveryCheck with the Go error text),
// else Passed. Checks run on every APIService change and every 30 s; the status is written only
// when it changed, and the discovery answer is kept for the aggregated discovery documents.
import type { Logger } from '../../../api/log.ts';
import type { LoopbackClient } from '../../client/loopback.ts';
import { isoNow } from '../strategies/types.ts';
import { type APIService, type APIServiceCondition, availableCondition } from '../strategies/apiregistration.ts';
import type { Aggregator, ResourceList } from './aggregator.ts';
import { backendHeaders, backendRequest, targetURL } from './proxy.ts';
import { goError } from '../admission/client.ts';

const CHECK_TIMEOUT_MS = 5_000;
const RESYNC_MS = 30_000;
/** a discovery answer larger than this is not kept (upstream reads it whole too) */
const MAX_DISCOVERY_BYTES = 4 << 20;
const CHECKER = { name: 'system:kube-aggregator', groups: ['system:masters'] };

type Verdict = Pick<APIServiceCondition, 'status' | 'reason' | 'message'> & { list?: ResourceList };

/** GET the backend's discovery; resolves with the verdict. */
function discoveryCheck(agg: Aggregator, svc: APIService): Promise<Verdict> {
  return agg.resolve(svc).then(
    (t) =>
      new Promise<Verdict>((resolve) => {
        const path = `/apis/${svc.spec.group}/${svc.spec.version}`;
        const url = targetURL({ ...t, path });
        const fail = (why: string): Verdict => ({
          status: 'False',
          reason: 'FailedDiscoveryCheck',
          message: `failing or missing response from ${url}: ${why}`,
        });
        const req = backendRequest({ ...t, path, user: CHECKER, creds: agg.creds }, 'GET', backendHeaders({ accept: 'application/json' }, CHECKER));
        const timer = setTimeout(() => req.destroy(Object.assign(new Error('context deadline exceeded'), { code: 'TIMEOUT' })), CHECK_TIMEOUT_MS);
        req.on('error', (e: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          resolve(fail(`Get ${JSON.stringify(url.toString())}: ${goError(e, { url, servername: t.servername })}`));
        });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_DISCOVERY_BYTES) chunks.push(c);
          });
          res.on('end', () => {
            clearTimeout(timer);
            const code = res.statusCode ?? 0;
            if (code < 200 || code >= 300) return resolve(fail(`bad status from ${url}: ${code}`));
            let list: ResourceList | undefined;
            try {
              list = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ResourceList;
            } catch {
              list = undefined;
            }
            resolve({ status: 'True', reason: 'Passed', message: 'all checks passed', list });
          });
        });
        req.end();
      }),
    (e: Error): Verdict => {
      const ref = svc.spec.service!;
      if (/is not present$/.test(e.message)) return { status: 'False', reason: 'ServiceNotFound', message: e.message };
      if (/no endpoints|no service port/i.test(e.message))
        return {
          status: 'False',
          reason: 'MissingEndpoints',
          message: `endpoints for service/${ref.name} in ${JSON.stringify(ref.namespace)} have no addresses with port name ""`,
        };
      return { status: 'False', reason: 'ServiceAccessError', message: e.message };
    },
  );
}

export class AvailabilityController {
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly agg: Aggregator,
    private readonly client: LoopbackClient,
    private readonly log: Logger,
    private readonly now = () => new Date(),
  ) {}

  start(): void {
    this.agg.onChange(() => this.soon());
    this.timer = setInterval(() => this.soon(), RESYNC_MS);
    this.soon();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.pending);
  }

  /** One pass over every APIService, soon (changes that come together share one pass). */
  private soon(): void {
    if (this.pending || this.stopped) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.running = this.running.then(() => this.syncAll()).catch((e: unknown) => this.log.warn({ err: e }, 'APIService availability pass failed'));
    }, 50);
  }

  /** Resolves after the pass that is running or queued (tests). */
  async settled(): Promise<void> {
    await this.running;
  }

  private async syncAll(): Promise<void> {
    for (const svc of this.agg.apiServices()) {
      if (this.stopped) return;
      const v: Verdict = svc.spec.service
        ? await discoveryCheck(this.agg, svc)
        : { status: 'True', reason: 'Local', message: 'Local APIServices are always available' };
      if (svc.spec.service) this.agg.setDiscovery(svc.spec.group ?? '', svc.spec.version ?? '', v.status === 'True' ? v.list : undefined);
      await this.write(svc, v);
    }
  }

  private async write(svc: APIService, v: Verdict): Promise<void> {
    const cur = availableCondition(svc);
    if (cur && cur.status === v.status && cur.reason === v.reason && cur.message === v.message) return;
    const cond: APIServiceCondition = {
      type: 'Available',
      status: v.status,
      reason: v.reason,
      message: v.message,
      lastTransitionTime: cur && cur.status === v.status && cur.lastTransitionTime ? cur.lastTransitionTime : isoNow(this.now()),
    };
    const conditions = [...(svc.status?.conditions ?? []).filter((c) => c.type !== 'Available'), cond];
    await this.client
      .update(`/apis/apiregistration.k8s.io/v1/apiservices/${svc.metadata.name}/status`, { ...svc, status: { ...svc.status, conditions } })
      .catch((e: unknown) => this.log.debug({ err: e, name: svc.metadata.name }, 'APIService status update failed (retried on the next pass)'));
  }
}
