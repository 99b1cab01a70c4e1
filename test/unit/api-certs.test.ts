// agents/api/certs.ts, the one certificate toolkit: its self-signed path makes both the cluster CA
// and the kubelet's fallback serving certificate, and nothing else self-signs.
import test from 'ava';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { certSANs, DAY_MS, selfSigned, serialNumber, x509 } from '../../agents/api/certs.ts';

test('a self-signed CA: CA basic constraints, the asked key usages, no SANs, valid from an hour ago', async (t) => {
  const before = Date.now();
  const ca = await selfSigned({ name: [{ CN: ['test-ca'] }], days: 10, keyUsages: x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign });
  const c = new X509Certificate(ca.certPem);
  t.true(c.ca);
  t.is(c.subject, 'CN=test-ca');
  t.true(c.checkIssued(c) && c.verify(c.publicKey), 'signed by itself');
  t.true(c.checkPrivateKey(createPrivateKey(ca.keyPem)));
  t.deepEqual(certSANs(c), []);
  t.falsy(c.keyUsage, 'no extended key usage');
  const p = new x509.X509Certificate(ca.certPem);
  t.is(p.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
  t.truthy(p.getExtension(x509.SubjectKeyIdentifierExtension));
  const from = Date.parse(c.validFrom);
  t.true(from <= before - 3600_000 + 1000 && from >= before - 3600_000 - 2000);
  t.true(Math.abs(Date.parse(c.validTo) - (before + 10 * DAY_MS)) < 5000);
});

test('a self-signed serving certificate names its SANs (DNS and IP) and serverAuth', async (t) => {
  const s = await selfSigned({
    name: [{ CN: ['n1@1'] }],
    days: 365,
    keyUsages: x509.KeyUsageFlags.digitalSignature,
    servingSans: ['n1', '10.0.0.5', 'localhost'],
  });
  const c = new X509Certificate(s.certPem);
  t.deepEqual(certSANs(s.certPem), ['n1', '10.0.0.5', 'localhost']);
  t.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  t.true(c.checkHost('n1') === 'n1' && c.checkIP('10.0.0.5') === '10.0.0.5');
});

test('serials are positive and 16 bytes, as Go demands', (t) => {
  for (let i = 0; i < 200; i++) {
    const s = serialNumber();
    t.is(s.length, 32);
    t.true(parseInt(s.slice(0, 2), 16) < 0x80 && parseInt(s.slice(0, 2), 16) > 0);
  }
});

function sources(p: string): string[] {
  if (!statSync(p).isDirectory()) return p.endsWith('.ts') ? [p] : [];
  return readdirSync(p).flatMap((n) => sources(join(p, n)));
}

test('one self-signing path', (t) => {
  t.deepEqual(
    sources('agents').filter((f) => /createSelfSigned\(/.test(readFileSync(f, 'utf8'))),
    ['agents/api/certs.ts'],
  );
});
