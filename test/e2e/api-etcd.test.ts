// The API server's e2e suite on a real etcd (Debian's etcd-server, started on loopback by the
// suite; see _api-suite.ts).
import test from 'ava';
import { apiSuite } from './_api-suite.ts';

apiSuite(test, 'etcd');
