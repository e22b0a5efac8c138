// Node's crypto, http and https modules, loaded with require rather than an
// ES import. Importing a builtin as an ES module builds its facade, which
// reads every export once: node:crypto's `webcrypto` getter loads WebCrypto,
// node:http's `WebSocket` getter loads undici (Node's fetch client, 750 kB of
// source). The manager uses neither, and together they were ~3 MiB of an idle
// manager's RSS (BENCHMARKS.md, "Idle memory"). Type imports of these modules
// are free; eslint.config.js keeps value imports of them out of every src/.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** `node:crypto`, without WebCrypto. */
export const nodeCrypto: typeof import('node:crypto') = require('node:crypto');
/** `node:http`, without undici. */
export const nodeHttp: typeof import('node:http') = require('node:http');
/** `node:https`, without undici. */
export const nodeHttps: typeof import('node:https') = require('node:https');
