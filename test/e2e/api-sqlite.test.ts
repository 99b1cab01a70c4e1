// The API server's e2e suite on the embedded SQLite store (see _api-suite.ts).
import test from 'ava';
import { apiSuite } from './_api-suite.ts';

apiSuite(test, 'sqlite');
