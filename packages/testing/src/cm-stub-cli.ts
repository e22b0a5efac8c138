import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { CmStub, CM_STUB_CHUNK_BYTES } from './cm-stub.js';
import { readRunFile } from './cm-run-file.js';

const USAGE = `cocos-cm-stub: a Computation Management stand-in for a manager in client mode.

  cocos-cm-stub [--host 127.0.0.1] [--port 7011] [--run run.json] [--chunk-bytes 1048576]
                [--tls-cert cert.pem --tls-key key.pem [--client-ca ca.pem]]

Point the manager at it: MANAGER_CM_CLIENT_ENABLE=true MANAGER_GRPC_URL=<host>:<port>
(and MANAGER_AGENT_CHANNEL=virtio-serial or vsock, so runs can hand over their manifest).
--run sends that run request (JSON) when the first manager connects. Every event is
printed as one JSON line. Commands on stdin:
  run <file.json>     send a run request (chunked, then an empty is_last chunk)
  stop <id>           stopComputation
  svm <id>            svmInfoReq
  policy <id>         attestationPolicyReq
  terminate [text]    terminateReq
  disconnect          end the open stream (the manager redials)
  restart             stop and listen again on the same port
  quit`;

/** Bytes as a line shows them: JSON or text as it is, anything else base64. */
function shown(value: unknown): unknown {
  if (value instanceof Uint8Array) {
    const text = Buffer.from(value).toString('utf8');
    return /^[\x20-\x7e\s]*$/.test(text) ? text : `base64:${Buffer.from(value).toString('base64')}`;
  }
  if (Array.isArray(value)) return value.map(shown);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shown(v)]));
  return value;
}

const print = (event: string, fields: Record<string, unknown> = {}) => process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);

async function command(stub: CmStub, line: string, chunkBytes: number): Promise<boolean> {
  const [name = '', ...rest] = line.trim().split(/\s+/);
  const arg = rest.join(' ');
  switch (name) {
    case '':
      return true;
    case 'run': {
      const run = readRunFile(arg);
      print('sent', { runReqChunks: stub.sendRun(run, { chunkBytes }), id: run.id });
      return true;
    }
    case 'stop':
      stub.stopComputation(arg);
      break;
    case 'svm':
      stub.svmInfo(arg);
      break;
    case 'policy':
      stub.attestationPolicy(arg);
      break;
    case 'terminate':
      stub.terminate(arg || undefined);
      break;
    case 'disconnect':
      stub.disconnect();
      break;
    case 'restart':
      await stub.restart();
      print('listening', { url: stub.url });
      return true;
    case 'quit':
      return false;
    default:
      print('error', { message: `unknown command ${JSON.stringify(name)}`, commands: 'run stop svm policy terminate disconnect restart quit' });
      return true;
  }
  print('sent', { command: name, argument: arg });
  return true;
}

/** The CLI: options, the stub, one JSON line per event, commands from stdin. */
export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '7011' },
      run: { type: 'string' },
      'chunk-bytes': { type: 'string', default: String(CM_STUB_CHUNK_BYTES) },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'client-ca': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const port = Number(values.port);
  const chunkBytes = Number(values['chunk-bytes']);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port}: expected a port number`);
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new Error(`--chunk-bytes ${values['chunk-bytes']}: expected a positive integer`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new Error('--tls-cert and --tls-key go together');
  const run = values.run === undefined ? null : readRunFile(values.run);
  const tls =
    values['tls-cert'] && values['tls-key']
      ? {
          cert: readFileSync(values['tls-cert']),
          key: readFileSync(values['tls-key']),
          ...(values['client-ca'] ? { clientCa: readFileSync(values['client-ca']) } : {}),
        }
      : undefined;
  const stub = await CmStub.start({ host: values.host, port, ...(tls ? { tls } : {}) });
  print('listening', { url: stub.url, tls: tls ? (tls.clientCa ? 'mTLS' : 'TLS') : 'plaintext' });
  stub.onConnection((connection) => {
    print('connected', { connection });
    if (run && connection === 1) print('sent', { runReqChunks: stub.sendRun(run, { chunkBytes }), id: run.id });
  });
  stub.onMessage((received) => print('received', { connection: received.connection, message: shown(received.message) }));
  const lines = createInterface({ input: process.stdin });
  let quit = false;
  for await (const line of lines) {
    try {
      if (!(await command(stub, line, chunkBytes))) {
        quit = true;
        break;
      }
    } catch (err) {
      print('error', { message: (err as Error).message });
    }
  }
  // No more commands (stdin closed, as under a service manager): serve until a signal.
  if (!quit) await new Promise((resolve) => ['SIGINT', 'SIGTERM'].forEach((signal) => process.once(signal, resolve)));
  await stub.stop();
  return 0;
}
