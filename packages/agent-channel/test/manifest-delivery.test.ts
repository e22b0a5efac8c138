import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isManagerError } from '@cocos-manager/core';
import { deliverManifest, MAX_MANIFEST_BYTES } from '../src/manifest-delivery.js';

/**
 * Stands in for QEMU's `-chardev socket,server=on,wait=off` of a VM's
 * manifest port, as QEMU behaves: it reads the manifest up to the end, then
 * closes its side (`take`); or it reads nothing and closes (`drop`), or holds
 * the connection and reads nothing (`hold`).
 */
function chardev(socketPath: string, mode: 'take' | 'drop' | 'hold') {
  const received: Buffer[] = [];
  const connections: Socket[] = [];
  const server: Server = createServer({ pauseOnConnect: mode !== 'take' }, (socket) => {
    connections.push(socket);
    socket.on('error', () => {});
    if (mode === 'take') {
      socket.on('data', (b: Buffer) => received.push(b));
      socket.on('end', () => socket.destroy());
    } else if (mode === 'drop') {
      // Closed with the bytes unread, as QEMU does when it exits: the writer sees a reset.
      setTimeout(() => socket.destroy(), 50);
    }
  });
  return {
    received: () => Buffer.concat(received),
    connections,
    listen: () => new Promise<void>((resolve) => server.listen(socketPath, resolve)),
    close: () => {
      for (const c of connections) c.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const reasonOf = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isManagerError(err, 'AGENT_CHANNEL_UNREACHABLE')).toBe(true);
  return (err as { fields: Record<string, unknown> }).fields['reason'];
};

let dir: string;
let sock: string;
const servers: Array<{ close(): Promise<void> }> = [];
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cac-mf-'));
  sock = path.join(dir, 'agent-manifest.sock');
});
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("manifest delivery to a VM's manifest port (a real Unix socket standing in for QEMU's)", () => {
  it('writes the manifest, ends, and resolves once the reader closed after taking all of it', async () => {
    const qemu = chardev(sock, 'take');
    servers.push(qemu);
    await qemu.listen();
    const manifest = Buffer.from(JSON.stringify({ id: 'c-1', name: 'computation', datasets: [{ id: 'd-1' }] }));
    await deliverManifest(sock, manifest);
    expect(qemu.received().equals(manifest)).toBe(true);
  });

  it('delivers a 1 MiB manifest whole (more than a socket buffer holds)', async () => {
    const qemu = chardev(sock, 'take');
    servers.push(qemu);
    await qemu.listen();
    const manifest = Buffer.alloc(MAX_MANIFEST_BYTES, 'm');
    await deliverManifest(sock, manifest);
    expect(qemu.received().equals(manifest)).toBe(true);
  });

  it('connects again while the socket is not there yet (QEMU starting)', async () => {
    const qemu = chardev(sock, 'take');
    servers.push(qemu);
    const delivered = deliverManifest(sock, Buffer.from('{"id":"late"}'), { retryMs: 20, attempts: 100 });
    await new Promise((r) => setTimeout(r, 150));
    await qemu.listen();
    await delivered;
    expect(qemu.received().toString()).toBe('{"id":"late"}');
  });

  it('gives up after its connection attempts when nothing listens', async () => {
    const started = Date.now();
    expect(await reasonOf(deliverManifest(sock, Buffer.from('{}'), { retryMs: 10, attempts: 5 }))).toBe('unreachable');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails when the reader closes with the manifest unread, and does not write it again', async () => {
    const qemu = chardev(sock, 'drop');
    servers.push(qemu);
    await qemu.listen();
    expect(await reasonOf(deliverManifest(sock, Buffer.from('{"id":"x"}'), { retryMs: 10 }))).toBe('closed');
    expect(qemu.connections).toHaveLength(1);
  });

  it('times out when the reader never takes it (no agent reading the port), and closes its connection', async () => {
    const qemu = chardev(sock, 'hold');
    servers.push(qemu);
    await qemu.listen();
    expect(await reasonOf(deliverManifest(sock, Buffer.from('{"id":"x"}'), { timeoutMs: 300 }))).toBe('timeout');
    const held = qemu.connections[0]!;
    held.resume(); // (paused on connect) so that the writer's end is read
    await new Promise<void>((resolve) => {
      if (held.closed) resolve();
      else held.once('close', () => resolve());
    });
  });

  it('stops when its signal aborts', async () => {
    const qemu = chardev(sock, 'hold');
    servers.push(qemu);
    await qemu.listen();
    const controller = new AbortController();
    const delivered = deliverManifest(sock, Buffer.from('{"id":"x"}'), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await reasonOf(delivered)).toBe('aborted');
    const aborted = new AbortController();
    aborted.abort();
    expect(await reasonOf(deliverManifest(sock, Buffer.from('{"id":"x"}'), { signal: aborted.signal }))).toBe('aborted');
  });

  it('refuses an empty manifest and one over its bound without connecting', async () => {
    const qemu = chardev(sock, 'take');
    servers.push(qemu);
    await qemu.listen();
    expect(await reasonOf(deliverManifest(sock, Buffer.alloc(0)))).toBe('invalid');
    expect(await reasonOf(deliverManifest(sock, Buffer.alloc(MAX_MANIFEST_BYTES + 1)))).toBe('invalid');
    expect(await reasonOf(deliverManifest(sock, Buffer.alloc(11), { maxBytes: 10 }))).toBe('invalid');
    expect(qemu.connections).toHaveLength(0);
  });
});
