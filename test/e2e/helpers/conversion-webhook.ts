// The CRD conversion webhook the CustomResourceConversionWebhook mirrors call, in a process of its
// own (the suite's kubectl runs synchronously and would starve a server in the test's event loop):
// upstream's sample converter (v1 hostPort <-> v2 host and port) at /crdconvert on 127.0.0.1, which
// the lab's API server reaches from the root namespace; prints {"port","caBundle"} on its first line.
import { conversionResponse, hostPortConverter, startWebhookServer } from '../../integration/_webhook-server.ts';

const server = await startWebhookServer({ '/crdconvert': conversionResponse(hostPortConverter) });
process.stdout.write(`${JSON.stringify({ port: server.port, caBundle: server.caBundle })}\n`);
const stop = () => void server.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
