// A throwaway HTTPS admission webhook for the webhook tests (the leading underscore keeps ava from
// running it): its own CA, a serving certificate for 127.0.0.1 and the given DNS names, and one
// answer function per path; every AdmissionReview it receives is recorded by path.
import https from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { issueCert, loadOrCreateCA } from '../../agents/control-plane/pki.ts';

export interface Review {
  apiVersion: string;
  kind: string;
  request: Record<string, any>;
}

/** What a path answers: a response object (uid and envelope are added) or, per request, never; raw text, never, a response after a delay, or a whole review (conversion). */
export type Answer =
  | ((r: Review) => Record<string, unknown> | 'hang')
  | { raw: string }
  | 'hang'
  | { delayMs: number; then: (r: Review) => Record<string, unknown> }
  | { review: (r: Review) => unknown };

export interface WebhookServer {
  port: number;
  /** base64 PEM of the CA that signed the serving certificate */
  caBundle: string;
  url(path: string): string;
  received(path: string): Review[];
  close(): Promise<void>;
}

export async function startWebhookServer(answers: Record<string, Answer>, dnsNames: string[] = []): Promise<WebhookServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hawser-webhook-ca-'));
  const ca = await loadOrCreateCA(dir);
  const cert = await issueCert(ca, { cn: 'webhook', sans: ['127.0.0.1', ...dnsNames], usage: 'server' });
  const seen = new Map<string, Review[]>();
  const hanging = new Set<import('node:http').ServerResponse>();
  const server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'https://x').pathname;
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Review;
      seen.set(path, [...(seen.get(path) ?? []), review]);
      const a = answers[path];
      if (a === 'hang') {
        hanging.add(res);
        return;
      }
      res.setHeader('content-type', 'application/json');
      if (!a) return res.writeHead(404).end('no such webhook');
      if ('raw' in a) return res.end(a.raw);
      if ('review' in a) return res.end(JSON.stringify(a.review(review)));
      const reply = (fn: (r: Review) => Record<string, unknown>) =>
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, ...fn(review) } }));
      if ('delayMs' in a) {
        hanging.add(res);
        const timer = setTimeout(() => reply(a.then), a.delayMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      const answer = a(review);
      if (answer === 'hang') hanging.add(res);
      else reply(() => answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    caBundle: Buffer.from(ca.certPem).toString('base64'),
    url: (path) => `https://127.0.0.1:${port}${path}`,
    received: (path) => seen.get(path) ?? [],
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JSONPatch response body part: base64 of the operations. */
export const jsonPatchResponse = (ops: unknown[]) => ({ allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') });

/** A ConversionReview v1 answer converting each object with `convert` (its uid echoed, result Success). */
export const conversionResponse = (convert: (o: Record<string, any>, apiVersion: string) => Record<string, any>): Answer => ({
  review: (r) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'ConversionReview',
    response: {
      uid: r.request.uid,
      convertedObjects: (r.request.objects as Record<string, any>[]).map((o) => convert(o, r.request.desiredAPIVersion)),
      result: { status: 'Success' },
    },
  }),
});

/**
 * upstream's sample conversion webhook (agnhost crd-conversion-webhook, example_converter.go):
 * v1 `hostPort: "host:port"` <-> v2 `host` and `port`, between any two of the versions.
 */
export function hostPortConverter(o: Record<string, any>, apiVersion: string): Record<string, any> {
  const { hostPort, host, port, ...rest } = o;
  const to = apiVersion.split('/').pop();
  if (to === 'v1')
    return {
      ...rest,
      apiVersion,
      ...(host !== undefined || port !== undefined ? { hostPort: `${host ?? ''}:${port ?? ''}` } : hostPort !== undefined ? { hostPort } : {}),
    };
  const [h, p] = typeof hostPort === 'string' ? hostPort.split(':') : [host, port];
  return { ...rest, apiVersion, ...(h !== undefined ? { host: h } : {}), ...(p !== undefined ? { port: p } : {}) };
}
