// The aggregated API server the Aggregator mirror registers, in a process of its own (the suite's
// kubectl runs synchronously and would starve a server in the test's event loop): upstream's
// sample-apiserver's wardle.example.com/v1alpha1 flunders as test/integration/_aggregated-server.ts
// serves them, on 127.0.0.1, which the lab's API server reaches from the root namespace. argv[2] is
// a file holding extension-apiserver-authentication's data as JSON; the first stdout line is
// {"port","caBundle"}.
import { readFileSync } from 'node:fs';
import { startAggregatedServer } from '../../integration/_aggregated-server.ts';
import { announceAndServe } from './child-server.ts';

const data = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Record<string, string>;
const server = await startAggregatedServer({
  requestHeaderCA: data['requestheader-client-ca-file']!,
  allowedNames: JSON.parse(data['requestheader-allowed-names'] ?? '[]') as string[],
  dnsNames: process.argv.slice(3),
});
announceAndServe({ port: server.port, caBundle: server.caBundle }, () => server.close());
