import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rssKiB, startManager, type RunningManager, type WireVm } from './harness.js';

/**
 * Authentication before buffering: with MANAGER_AUTH_TOKENS_FILE set, a gRPC
 * call without a token is refused on its metadata, before grpc-js reads its
 * message. 32 such calls, each on its own connection and each sending ~16 MiB
 * without ever finishing, must not make the manager hold their bytes.
 */

const TOKEN = 'a'.repeat(48);
const STREAMS = 32;
const MESSAGE = 16 * 1024 * 1024 - 1024;

/** An unauthenticated CreateVm that sends most of a 16 MiB message and never ends it; resolves with its gRPC status once answered. */
function floodingCall(port: number) {
  // (The client queues its whole message at once: its own session must allow that.)
  const session = http2.connect(`http://127.0.0.1:${port}`, { maxSessionMemory: 256 });
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': '/manager.ManagerService/CreateVm', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => undefined);
  const status = new Promise<string>((resolve) => {
    stream.on('response', (headers) => resolve(String(headers['grpc-status'] ?? 'none')));
    stream.on('close', () => resolve(`closed rst=${stream.rstCode}`));
    // Refused on its metadata, a call is answered at once; one that waits for its whole message never is.
    setTimeout(() => resolve('no answer'), 15_000).unref();
  });
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(MESSAGE, 1);
  stream.write(prefix);
  const chunk = Buffer.alloc(1024 * 1024, 0x0a);
  // Queued all at once: whatever the server lets through, it gets as fast as it reads.
  for (let sent = 0; sent + chunk.length <= MESSAGE; sent += chunk.length) stream.write(chunk);
  return { status, close: () => session.destroy() };
}

describe('unauthenticated gRPC callers cannot make the manager buffer their messages (real binary)', () => {
  let m: RunningManager | null = null;
  let base: string | null = null;
  afterAll(async () => {
    await m?.dispose();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it(`${STREAMS} streams of ~16 MiB without a token: RSS grows < 64 MiB, each is refused UNAUTHENTICATED, an authorised call is served`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-e2e-authbuf-'));
    base = dir;
    const tokens = path.join(dir, 'tokens');
    writeFileSync(tokens, `admin ops ${TOKEN}\n`);
    chmodSync(tokens, 0o600);
    m = await startManager('6595-6599', { MANAGER_AUTH_TOKENS_FILE: tokens });
    // Warm up the call path once, so its first-use allocations are not counted.
    expect((await m.call<{ vms: WireVm[] }>('ListVms', {}, TOKEN)).vms).toEqual([]);
    const before = rssKiB(m.pid);
    const calls = Array.from({ length: STREAMS }, () => floodingCall(m!.grpcPort));
    const statuses = await Promise.all(calls.map((c) => c.status));
    // Give any bytes the manager would read the time to arrive and pile up.
    let peak = rssKiB(m.pid);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 150));
      peak = Math.max(peak, rssKiB(m.pid));
    }
    const grownMiB = (peak - before) / 1024;
    console.log(`${STREAMS} unauthenticated 16 MiB streams: manager RSS +${grownMiB.toFixed(1)} MiB`);
    expect(statuses).toEqual(Array<string>(STREAMS).fill('16'));
    expect(grownMiB).toBeLessThan(64);
    // Meanwhile and after, an authorised caller is served; an unauthenticated one is refused.
    expect((await m.call<{ vms: WireVm[] }>('ListVms', {}, TOKEN)).vms).toEqual([]);
    await expect(m.call('ListVms', {})).rejects.toMatchObject({ code: 16 });
    for (const c of calls) c.close();
    const metrics = (await m.http('GET', '/metrics')).text;
    expect(metrics).toMatch(/manager_api_requests_total\{transport="grpc",method="CreateVm",code="UNAUTHENTICATED"\} 32/);
  });
});
