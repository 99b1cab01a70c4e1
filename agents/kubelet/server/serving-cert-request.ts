// The kubelet asks the control plane for a serving certificate signed by the cluster CA (POST
// /v1-hawser/serving-cert with its node client certificate), so that the API server can verify
// it when it dials the kubelet for logs, exec and port-forward.
import https from 'node:https';
import type { ClusterAuth } from '../../api/kubeconfig.ts';
import type { ServingCertIssuer } from './serving-cert.ts';

const TIMEOUT_MS = 10_000;
const MAX_RESPONSE = 64 * 1024;

export function servingCertIssuer(auth: ClusterAuth): ServingCertIssuer | undefined {
  if (!auth.ca || !auth.cert || !auth.key) return undefined;
  const ca = auth.ca;
  return {
    ca,
    issue: (addresses) =>
      new Promise((resolve, reject) => {
        const req = https.request(
          `${auth.server}/v1-hawser/serving-cert`,
          {
            method: 'POST',
            ca,
            cert: auth.cert,
            key: auth.key,
            timeout: TIMEOUT_MS,
            headers: { 'Content-Type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => {
              text += d;
              if (text.length > MAX_RESPONSE) req.destroy(new Error('serving certificate response too large'));
            });
            res.on('end', () => {
              try {
                const doc = JSON.parse(text) as { certPem?: unknown; keyPem?: unknown; message?: unknown };
                if (res.statusCode !== 200 || typeof doc.certPem !== 'string' || typeof doc.keyPem !== 'string')
                  return reject(new Error(`the control plane refused a serving certificate (${res.statusCode}): ${String(doc.message ?? text.slice(0, 200))}`));
                resolve({ certPem: doc.certPem, keyPem: doc.keyPem });
              } catch {
                reject(new Error(`the control plane answered ${res.statusCode} with no JSON: ${text.slice(0, 200)}`));
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer from ${auth.server} within ${TIMEOUT_MS / 1000} s`)));
        req.on('error', reject);
        req.end(JSON.stringify({ addresses }));
      }),
  };
}
