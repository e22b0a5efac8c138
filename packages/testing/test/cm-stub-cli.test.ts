import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { credentials, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import { execa } from 'execa';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  decodeComputationRunReq,
  encodeComputationRunReq,
  loadCmStreamProto,
  type ClientStreamMessageInput,
  type RunReqChunks,
  type ServerStreamMessage,
} from '@cocos-manager/contract';
import { runRequestFromJson } from '../src/index.js';

// Real sockets, processes and TLS: generous limits (each wait ends when its condition holds).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

// The CLI as operators run it: the built bin (npm test builds first).
const BIN = fileURLToPath(new URL('../bin/cocos-cm-stub.js', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-stub-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUN = {
  id: 'comp-cli',
  name: 'addition',
  algorithm: { hash: 'ab'.repeat(32), userKey: '-----BEGIN PUBLIC KEY-----\nK\n-----END PUBLIC KEY-----\n' },
  datasets: [{ hash: 'cd'.repeat(32), filename: 'data.csv' }],
  agent_config: { port: '7002', log_level: 'info' },
};

type Call = ClientDuplexStream<ClientStreamMessageInput, ServerStreamMessage>;

describe('cocos-cm-stub', () => {
  it('listens, sends --run in chunks to the first manager, prints what it sends back, takes commands on stdin', async () => {
    const runFile = path.join(dir, 'run.json');
    writeFileSync(runFile, JSON.stringify(RUN));
    const stub = execa('node', [BIN, '--port', '0', '--run', runFile, '--chunk-bytes', '16'], { reject: false, stdin: 'pipe' });
    const lines: Array<Record<string, unknown>> = [];
    const waiters: Array<() => void> = [];
    createInterface({ input: stub.stdout! }).on('line', (line) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
      waiters.splice(0).forEach((w) => w());
    });
    const line = (matches: (l: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const check = () => {
          const found = lines.find(matches);
          if (found) resolve(found);
          else waiters.push(check);
        };
        check();
      });

    const listening = await line((l) => l['event'] === 'listening');
    expect(listening).toMatchObject({ tls: 'plaintext', url: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });

    // A manager, as far as the stub can tell: a Process stream.
    const { ManagerService } = loadCmStreamProto();
    const client = new ManagerService(String(listening['url']), credentials.createInsecure()) as unknown as Client & { Process(): Call };
    const call = client.Process();
    const chunks: RunReqChunks[] = [];
    const received: ServerStreamMessage[] = [];
    call.on('data', (m: ServerStreamMessage) => {
      received.push(m);
      if (m.message === 'runReqChunks') chunks.push(m.runReqChunks);
    });
    call.on('error', () => undefined);
    call.write({ run_res: { agent_port: '6100', computation_id: 'comp-cli' } });

    expect(await line((l) => l['event'] === 'connected')).toEqual({ event: 'connected', connection: 1 });
    const sent = await line((l) => l['event'] === 'sent' && 'runReqChunks' in l);
    expect(sent['id']).toBe('comp-cli');
    expect(await line((l) => l['event'] === 'received')).toMatchObject({
      connection: 1,
      message: { run_res: { agent_port: '6100', computation_id: 'comp-cli' } },
    });
    const total = Number(sent['runReqChunks']);
    expect(total).toBeGreaterThan(2);
    await new Promise<void>((resolve) => {
      const check = () => (chunks.length >= total ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(chunks.at(-1)).toMatchObject({ id: 'comp-cli', is_last: true });
    expect(chunks.at(-1)?.data.byteLength).toBe(0);
    const bytes = Buffer.concat(chunks.map((c) => c.data));
    expect(decodeComputationRunReq(bytes)).toEqual(decodeComputationRunReq(encodeComputationRunReq(runRequestFromJson(RUN))));

    stub.stdin!.write('svm comp-cli\nbogus\n');
    await line((l) => l['event'] === 'error');
    await new Promise<void>((resolve) => {
      const check = () => (received.some((m) => m.message === 'svmInfoReq') ? resolve() : setTimeout(check, 10));
      check();
    });
    expect(received.find((m) => m.message === 'svmInfoReq')).toMatchObject({ svmInfoReq: { id: 'comp-cli' } });
    stub.stdin!.write('quit\n');
    expect((await stub).exitCode).toBe(0);
    client.close();
  });

  it('refuses a run file without an id, and half a TLS pair', async () => {
    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'no id' }));
    const noId = await execa('node', [BIN, '--port', '0', '--run', bad], { reject: false, stdin: 'ignore' });
    expect(noId.exitCode).toBe(2);
    expect(noId.stderr).toMatch(/needs an "id"/);
    const half = await execa('node', [BIN, '--port', '0', '--tls-cert', bad], { reject: false, stdin: 'ignore' });
    expect(half.stderr).toMatch(/--tls-cert and --tls-key go together/);
  });
});
