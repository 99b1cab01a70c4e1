// One HTTPS POST of an AdmissionReview to a webhook, bounded by its timeoutSeconds, with errors
// worded as Go's client reports them (`Post "<url>": context deadline exceeded`, x509 failures,
// refused connections), since users search for upstream's messages. The certificate is checked
// against the configuration's caBundle (system roots when it has none) and the URL's host, or
// `<service>.<namespace>.svc` when the call goes to a Service's endpoint.
import https from 'node:https';
import { isIP } from 'node:net';

export interface CallTarget {
  /** the URL the request is for, as reported in errors (with ?timeout=) */
  url: URL;
  /** where to connect when it is not the URL's host (a Service's endpoint) */
  connect?: { host: string; port: number };
  /** the name the certificate must carry (a Service's DNS name) */
  servername?: string;
  /** base64 PEM from clientConfig.caBundle */
  caBundle?: string;
}

/** A failure to get an answer at all (failurePolicy applies). */
export class CallError extends Error {}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export function roots(caBundle: string | undefined): string | undefined {
  if (!caBundle) return undefined;
  const pem = Buffer.from(caBundle, 'base64').toString('utf8');
  if (!PEM_CERT.test(pem)) throw new CallError('unable to load root certificates: unable to parse bytes as PEM block');
  return pem;
}

/** Node's TLS and socket errors in the words Go's crypto/tls and net packages use. */
export function goError(e: NodeJS.ErrnoException, t: Pick<CallTarget, 'url' | 'connect' | 'servername'>): string {
  const name = t.servername ?? t.url.hostname;
  switch (e.code) {
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'CERT_SIGNATURE_FAILURE':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'CERT_HAS_EXPIRED':
      return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: certificate is not valid for ${name}`;
    case 'ECONNREFUSED':
      return `dial tcp ${t.connect ? `${t.connect.host}:${t.connect.port}` : t.url.host}: connect: connection refused`;
    case 'ECONNRESET':
      return 'EOF';
    default:
      return e.message;
  }
}

/** POSTs body; resolves with the 200 answer's text, rejects with a CallError. */
export function post(t: CallTarget, body: string, timeoutMs: number): Promise<string> {
  const where = `Post ${JSON.stringify(t.url.toString())}`;
  return new Promise((resolve, reject) => {
    let ca: string | undefined;
    try {
      ca = roots(t.caBundle);
    } catch (e) {
      return reject(e);
    }
    let done = false;
    const finish = (err: string | undefined, text?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err !== undefined) reject(new CallError(err));
      else resolve(text!);
    };
    const host = t.url.hostname.replace(/^\[|\]$/g, '');
    // an IP is checked against the certificate's IP SANs; SNI carries names only
    const servername = t.servername ?? (isIP(host) ? undefined : host);
    const req = https.request(
      {
        host: t.connect?.host ?? host,
        port: t.connect?.port ?? (Number(t.url.port) || 443),
        ...(servername ? { servername } : {}),
        path: `${t.url.pathname}${t.url.search}`,
        method: 'POST',
        ca,
        agent: false,
        headers: { 'content-type': 'application/json', accept: 'application/json, */*', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          // an answer larger than any AdmissionReview a webhook may send (upstream's 3 MiB request cap, doubled)
          if (size > 6 * 1024 * 1024) {
            req.destroy();
            finish(`${where}: response body too large`);
          } else chunks.push(c);
        });
        res.on('error', (e) => finish(`${where}: ${goError(e, t)}`));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            const shown = text.length > 200 ? `${text.slice(0, 200)}...` : text;
            finish(`an error on the server (${JSON.stringify(shown)}) has prevented the request from succeeding`);
          } else finish(undefined, text);
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish(`${where}: context deadline exceeded`);
    }, timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => finish(`${where}: ${goError(e, t)}`));
    req.end(body);
  });
}
