import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode, ManagerError } from '../src/index.js';
import { PortAllocator } from '../src/internal.js';

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function holdPort(port: number): Promise<void> {
  const server = net.createServer();
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
}

async function freeRange(size: number): Promise<{ first: number; last: number }> {
  // A random range below Linux's ephemeral ports (32768-60999): a busy machine's
  // outgoing connections hold ports there, and a probe's bind would fail on them.
  const first = 20000 + Math.floor(Math.random() * 12000);
  return { first, last: first + size - 1 };
}

describe('PortAllocator', () => {
  it('never hands one port to two concurrent callers', async () => {
    const range = await freeRange(20);
    const ports = new PortAllocator(range);
    const got = await Promise.all(Array.from({ length: 20 }, () => ports.allocate()));
    expect(new Set(got).size).toBe(20);
    expect(ports.inUse).toBe(20);
  });

  it('skips a port another process holds', async () => {
    const range = await freeRange(3);
    await holdPort(range.first);
    const ports = new PortAllocator(range);
    const port = await ports.allocate();
    expect(port).not.toBe(range.first);
    expect(port).toBeGreaterThan(range.first);
  });

  it('gives a released port out again', async () => {
    const range = await freeRange(1);
    const ports = new PortAllocator(range);
    const port = await ports.allocate();
    ports.release(port);
    expect(await ports.allocate()).toBe(port);
  });

  it('reports exhaustion as RESOURCE_EXHAUSTED, counting ours and others', async () => {
    const range = await freeRange(2);
    await holdPort(range.last);
    const ports = new PortAllocator(range);
    await ports.allocate();
    const err = await ports.allocate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as ManagerError).code).toBe(ErrorCode.ResourceExhausted);
    expect((err as Error).message).toMatch(/1 used by VMs, 1 held by other processes/);
  });
});
