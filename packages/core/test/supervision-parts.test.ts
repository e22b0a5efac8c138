import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync, openSync, writeSync, closeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { checkIdentity, ConsoleLog, QmpClient, readStartTime, STATE_VERSION, StateStore, type VmStateRecord } from '../src/internal.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'cm-parts-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const record = (id: string, overrides: Partial<VmStateRecord> = {}): VmStateRecord => ({
  version: STATE_VERSION,
  id,
  state: 'running',
  pid: 42,
  pidStartTime: '1234',
  hostPort: 6100,
  backend: 'plain',
  boot: 'ram',
  createdAt: '2026-01-01T00:00:00.000Z',
  ttlDeadline: null,
  kernelCommandLine: 'quiet',
  exit: null,
  ...overrides,
});

describe('StateStore', () => {
  const id = '0b9e6a3c-1d2e-4f50-8a6b-7c8d9e0f1a2b';

  it('writes 0600 files in a 0700 directory, replaces them atomically, loads them back', async () => {
    const store = new StateStore(path.join(tmp(), 'state'));
    await store.init();
    await store.save(record(id));
    await store.save(record(id, { state: 'failed' }));
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.file(id)).mode & 0o777).toBe(0o600);
    expect(readdirSync(store.dir)).toEqual([`${id}.json`]); // no temporary left
    const { records, problems } = await store.loadAll();
    expect(problems).toEqual([]);
    expect(records).toEqual([record(id, { state: 'failed' })]);
    await store.remove(id);
    expect(await store.ids()).toEqual([]);
  });

  it('drops interrupted writes, reports unreadable or foreign-version files, ignores other files', async () => {
    const store = new StateStore(tmp());
    await store.init();
    writeFileSync(path.join(store.dir, `${id}.json.1234abcd.tmp`), '{"half":');
    writeFileSync(path.join(store.dir, '1b9e6a3c-1d2e-4f50-8a6b-7c8d9e0f1a2b.json'), '{ torn');
    writeFileSync(path.join(store.dir, '2b9e6a3c-1d2e-4f50-8a6b-7c8d9e0f1a2b.json'), JSON.stringify({ ...record('x'), version: 99 }));
    writeFileSync(path.join(store.dir, 'README'), 'not state');
    const { records, problems } = await store.loadAll();
    expect(records).toEqual([]);
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/state version 99 is not 1/);
    expect(readdirSync(store.dir).some((n) => n.endsWith('.tmp'))).toBe(false);
  });
});

describe('ConsoleLog', () => {
  it('rotates by copy-and-truncate, so a writer holding the file (O_APPEND) keeps writing', async () => {
    const file = path.join(tmp(), 'console.log');
    const fd = openSync(file, 'a');
    const log = new ConsoleLog(file, 100);
    writeSync(fd, 'x'.repeat(150));
    expect(await log.rotateIfNeeded()).toBe(true);
    expect(statSync(file).size).toBe(0);
    expect(readFileSync(log.rotated, 'utf8')).toBe('x'.repeat(150));
    writeSync(fd, 'after rotation\n');
    closeSync(fd);
    expect(readFileSync(file, 'utf8')).toBe('after rotation\n'); // no hole, no stale offset
    expect(await log.rotateIfNeeded()).toBe(false);
    expect(await log.tail(20)).toBe('xxxxxafter rotation\n');
    expect(readdirSync(path.dirname(file)).sort()).toEqual(['console.log', 'console.log.1']);
  });

  it('stays bounded: live file plus one rotation', async () => {
    const file = path.join(tmp(), 'console.log');
    const log = new ConsoleLog(file, 1000);
    for (let i = 0; i < 50; i++) {
      appendFileSync(file, `${'line '.repeat(60)}\n`);
      await log.rotateIfNeeded();
    }
    const total = readdirSync(path.dirname(file)).reduce((n, f) => n + statSync(path.join(path.dirname(file), f)).size, 0);
    expect(total).toBeLessThanOrEqual(2 * (1000 + 301));
  });
});

describe('process identity from /proc', () => {
  function fakeProc(pid: number, state: string, startTime: string, argv: string[]): string {
    const root = tmp();
    mkdirSync(path.join(root, String(pid)));
    // comm with a space and a parenthesis, as /proc allows
    const fields = [state, '1', pid, pid, '0', '-1', '4194560', '0', '0', '0', '0', '0', '0', '0', '0', '20', '0', '1', '0', startTime, '0'];
    writeFileSync(path.join(root, String(pid), 'stat'), `${pid} (qemu (x) y) ${fields.join(' ')}\n`);
    writeFileSync(path.join(root, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
    return root;
  }

  it('reads the start time after the command name, whatever it contains', async () => {
    const root = fakeProc(77, 'S', '987654', ['qemu']);
    expect(await readStartTime(77, root)).toBe('987654');
    expect(await readStartTime(78, root)).toBeNull();
  });

  it('treats a zombie as gone', async () => {
    expect(await readStartTime(77, fakeProc(77, 'Z', '5', ['qemu']))).toBeNull();
    expect(await readStartTime(77, fakeProc(77, 'Z', '5', ['qemu']), true)).toBe('5');
  });

  it('accepts only the same pid, start time and -name', async () => {
    const root = fakeProc(77, 'S', '100', ['qemu-system-x86_64', '-machine', 'q35', '-name', 'cvm-abc']);
    expect(await checkIdentity({ pid: 77, startTime: '100' }, 'cvm-abc', root)).toEqual({ same: true });
    expect(await checkIdentity({ pid: 77, startTime: '99' }, 'cvm-abc', root)).toMatchObject({
      same: false,
      reason: 'reused',
      why: expect.stringMatching(/belongs to another process/),
    });
    expect(await checkIdentity({ pid: 77, startTime: '100' }, 'cvm-other', root)).toMatchObject({
      same: false,
      reason: 'not-ours',
      why: expect.stringMatching(/does not carry -name cvm-other/),
    });
    expect(await checkIdentity({ pid: 78, startTime: '100' }, 'cvm-abc', root)).toMatchObject({ same: false, reason: 'gone', why: 'pid 78 is not running' });
  });
});

describe('QmpClient', () => {
  /** A QMP peer following the protocol's framing (greeting, capabilities, ids, events). */
  function qmpPeer(socketPath: string, onCommand: (cmd: { execute: string; id: string }, send: (o: object) => void) => void) {
    const server = net.createServer((conn) => {
      const send = (o: object) => conn.write(`${JSON.stringify(o)}\r\n`);
      send({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } });
      let buffer = '';
      conn.on('data', (chunk) => {
        buffer += chunk.toString();
        let i;
        while ((i = buffer.indexOf('\n')) >= 0) {
          const cmd = JSON.parse(buffer.slice(0, i)) as { execute: string; id: string };
          buffer = buffer.slice(i + 1);
          if (cmd.execute === 'qmp_capabilities') send({ return: {}, id: cmd.id });
          else onCommand(cmd, send);
        }
      });
    });
    return new Promise<net.Server>((resolve) => server.listen(socketPath, () => resolve(server)));
  }

  it('negotiates, matches answers to commands by id, surfaces errors and events, reports close', async () => {
    const sock = path.join(tmp(), 'qmp.sock');
    const server = await qmpPeer(sock, (cmd, send) => {
      if (cmd.execute === 'query-status') {
        send({ event: 'STOP', timestamp: { seconds: 1, microseconds: 0 } });
        setTimeout(() => send({ return: { status: 'paused', running: false }, id: cmd.id }), 20);
      } else send({ error: { class: 'CommandNotFound', desc: `The command ${cmd.execute} has not been found` }, id: cmd.id });
    });
    const client = await QmpClient.connect(sock);
    const events: string[] = [];
    client.on('event', (e) => events.push(e.event));
    const [a, b] = await Promise.allSettled([client.execute('query-status'), client.execute('nope')]);
    expect(a).toEqual({ status: 'fulfilled', value: { status: 'paused', running: false } });
    expect(b).toMatchObject({ status: 'rejected', reason: { errorClass: 'CommandNotFound' } });
    expect(events).toEqual(['STOP']);
    const closed = new Promise((r) => client.once('closed', () => r(true)));
    server.close();
    client.close();
    expect(await closed).toBe(true);
    expect(client.connected).toBe(false);
    await expect(client.execute('query-status')).rejects.toThrow(/closed/);
  });

  it('times out a command QEMU does not answer', async () => {
    const sock = path.join(tmp(), 'qmp.sock');
    const server = await qmpPeer(sock, () => undefined);
    const client = await QmpClient.connect(sock);
    await expect(client.execute('system_powerdown', undefined, 50)).rejects.toThrow(/no answer within 50 ms/);
    client.close();
    server.close();
  });

  it('refuses a socket that is not QMP', async () => {
    const sock = path.join(tmp(), 'other.sock');
    const server = net.createServer((c) => c.end('HELLO\n'));
    await new Promise<void>((r) => server.listen(sock, r));
    await expect(QmpClient.connect(sock, 500)).rejects.toThrow(/did not greet as QMP/);
    server.close();
  });

  it('closes a connection whose capabilities handshake times out, so QEMU can take the next client', async () => {
    const sock = path.join(tmp(), 'qmp.sock');
    let closedByClient: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (closedByClient = resolve));
    // Greets, then never answers qmp_capabilities (a QEMU too busy to).
    const server = net.createServer((conn) => {
      conn.write(`${JSON.stringify({ QMP: { version: {}, capabilities: [] } })}\r\n`);
      conn.resume();
      conn.on('close', () => closedByClient());
    });
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    await expect(QmpClient.connect(sock, 100)).rejects.toThrow(/qmp_capabilities/);
    await closed;
    server.close();
  });
});
