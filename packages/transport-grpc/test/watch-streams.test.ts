import http2 from 'node:http2';
import { Metadata, status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { call, managerClient, startGrpcManager, type GrpcTestManager, type ManagerClient } from './harness.js';

const running: GrpcTestManager[] = [];
const clients: ManagerClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  for (const m of running.splice(0)) await m.stop();
});
async function start(env: Record<string, string>) {
  const m = await startGrpcManager(env);
  running.push(m);
  const client = managerClient(`127.0.0.1:${m.port}`);
  clients.push(client);
  return { m, client };
}

/**
 * A WatchEvents client that never reads: a bare HTTP/2 stream, paused, so the
 * server's flow-control window fills and its messages pile up. Resolves with
 * the reset code once the server ends the stream.
 */
function slowWatcher(port: number): { ended: Promise<number>; close(): void } {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': '/manager.ManagerService/WatchEvents', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => undefined);
  // One gRPC frame: not compressed, length 0 (an all-default WatchEventsRequest).
  stream.end(Buffer.alloc(5));
  stream.pause();
  return { ended: new Promise((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1))), close: () => session.destroy() };
}

/** Waits (up to 10 s) until `done` holds; the machine may be busy. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; !done() && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
}

function watch(client: ManagerClient, lifecycleOnly = false) {
  const stream = client.WatchEvents({ vm_id: '', lifecycle_only: lifecycleOnly }, new Metadata());
  const lines: string[] = [];
  stream.on('data', (e: { kind: string; line: string }) => e.kind === 'console' && lines.push(e.line));
  const failed = new Promise<{ code: number }>((resolve) => stream.on('error', resolve));
  return { stream, lines, failed };
}

describe('WatchEvents resource bounds', () => {
  it('a reader that never reads is cut off once its backlog passes the bound, counted; a normal reader gets every line', async () => {
    const { m, client } = await start({ MANAGER_GRPC_STREAM_BACKLOG_BYTES: '128K' });
    const slow = slowWatcher(m.port);
    const normal = watch(client);
    await until(() => m.transport['streams'].streams === 2);
    expect(m.transport['streams'].streams).toBe(2);
    await call(client, 'CreateVm', {});
    const qemu = m.launcher.processes[0]!;
    const line = (i: number) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(90)}`;
    // A flood of bursts of 200 lines (~30 KiB of messages each) until the slow reader is gone, and a little after.
    let slowGone = false;
    const slowEnded = slow.ended.then((code) => ((slowGone = true), code));
    let total = 0;
    for (let after = 0; after < 5 && total < 40_000; after += slowGone ? 1 : 0) {
      await qemu.writeConsole(Array.from({ length: 200 }, (_, j) => line(total + j)));
      total += 200;
      await new Promise((r) => setTimeout(r, 100));
    }
    // NGHTTP2_ENHANCE_YOUR_CALM: grpc clients report it as RESOURCE_EXHAUSTED.
    expect(await slowEnded).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    slow.close();
    expect(await m.metric('manager_stream_clients_dropped_total', { transport: 'grpc', stream: 'WatchEvents' })).toBe(1);
    for (let waited = 0; normal.lines.length < total && waited < 30_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    expect(normal.lines.length).toBe(total);
    expect(normal.lines.every((l, i) => l === line(i))).toBe(true);
    expect(m.transport['streams'].streams).toBe(1);
    normal.stream.cancel();
  }, 60_000);

  it('more than MANAGER_GRPC_MAX_STREAMS streams: RESOURCE_EXHAUSTED; a slot frees when a stream ends', async () => {
    const { m, client } = await start({ MANAGER_GRPC_MAX_STREAMS: '2' });
    const first = watch(client, true);
    const second = watch(client, true);
    await until(() => m.transport['streams'].streams === 2);
    const third = watch(client, true);
    expect(await third.failed).toMatchObject({ code: status.RESOURCE_EXHAUSTED, details: expect.stringContaining('MANAGER_GRPC_MAX_STREAMS') });
    first.stream.cancel();
    await until(() => m.transport['streams'].streams === 1);
    expect(m.transport['streams'].streams).toBe(1);
    const fourth = watch(client, true);
    await until(() => m.transport['streams'].streams === 2);
    expect(m.transport['streams'].streams).toBe(2);
    second.stream.cancel();
    fourth.stream.cancel();
  });
});
