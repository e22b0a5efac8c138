import { afterEach, describe, expect, it, vi } from 'vitest';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { CmStub } from '@cocos-manager/testing';
import { Backoff } from '../src/index.js';
import { memoryLogger, startClient, until } from './fakes.js';

// Real sockets, processes and TLS: generous limits (each wait ends when its condition holds).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

describe('backoff', () => {
  it('doubles from the minimum to the cap, each wait 50-100 % of its step', () => {
    const top = new Backoff(100, 1000, () => 1);
    expect([1, 2, 3, 4, 5, 6].map(() => top.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    const bottom = new Backoff(100, 1000, () => 0);
    expect([1, 2, 3, 4, 5].map(() => bottom.next())).toEqual([50, 100, 200, 400, 500]);
    expect(bottom.attempts).toBe(5);
    bottom.reset();
    expect(bottom.next()).toBe(50);
    // A random source out of [0, 1) is clamped: never above the step, never below half of it.
    expect(new Backoff(100, 1000, () => 7).next()).toBe(100);
    expect(new Backoff(100, 1000, () => -3).next()).toBe(50);
    expect(() => new Backoff(0, 10)).toThrow(RangeError);
    expect(() => new Backoff(10, 5)).toThrow(RangeError);
  });
});

describe('reconnecting to Computation Management', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });

  async function setUp(options: Parameters<typeof startClient>[1] = {}) {
    const stub = await CmStub.start();
    cleanup.push(() => stub.stop());
    const started = await startClient(stub, options);
    cleanup.push(() => started.client.stop());
    return { stub, ...started };
  }

  it('the stub restarting mid-run: the client redials, the VM stays, its computation is still answered on the new stream', async () => {
    const { stub, client, vms } = await setUp();
    await stub.waitForConnection();
    stub.sendRun({ id: 'comp-r', agent_config: { log_level: 'info' } });
    expect(await stub.waitForMessage('run_res')).toMatchObject({ computation_id: 'comp-r' });
    await stub.restart();
    await stub.waitForConnection({ count: 2 });
    expect(client.status()).toMatchObject({ state: 'connected', connections: 2, computations: 1 });
    expect(vms.removed).toEqual([]);
    stub.svmInfo('comp-r');
    const info = await stub.waitForMessage('svm_info');
    expect(info).toMatchObject({ id: 'comp-r', cpu_num: 2 });
    expect(stub.received.find((r) => r.message.message === 'svm_info')?.connection).toBe(2);
  });

  it('what happens while no stream is open is sent, in order and once, on the next one', async () => {
    const { stub, client, vms } = await setUp();
    await stub.waitForConnection();
    stub.sendRun({ id: 'comp-q' });
    await stub.waitForMessage('run_res');
    const before = stub.received.length;
    await stub.stop();
    await until(() => client.status().state === 'waiting', 'the client to notice');
    for (const n of [1, 2, 3]) vms.agent('vm-1', { kind: 'log', computationId: '', level: 'info', message: `offline ${n}`, timestamp: null });
    expect(client.status().queued).toBe(3);
    await stub.restart();
    await stub.waitForConnection({ count: 2 });
    await until(() => stub.messages('agent_log').length === 3, 'the queued logs');
    expect(stub.messages('agent_log').map((l) => l.message)).toEqual(['offline 1', 'offline 2', 'offline 3']);
    expect(stub.received.slice(before).every((r) => r.connection === 2)).toBe(true);
    expect(client.status().queued).toBe(0);
  });

  it('a Computation Management that is down: start-up goes on, waits double to the cap, a healthy stream resets them', async () => {
    const probe = await CmStub.start();
    const url = probe.url;
    await probe.stop();
    const { logger, lines } = memoryLogger();
    const { client } = await startClient({ url }, { logger, env: { MANAGER_CM_RECONNECT_MIN_DELAY: '20ms', MANAGER_CM_RECONNECT_MAX_DELAY: '160ms' } }).then(
      (s) => {
        cleanup.push(() => s.client.stop());
        return s;
      },
    );
    const redials = () => lines.filter((l) => l['msg'] === 'could not connect to Computation Management; redialling');
    await until(() => redials().length >= 6, 'six failed dials');
    // Jitter is random: each wait lies in [step/2, step], the steps double up to the cap.
    const steps = [20, 40, 80, 160, 160, 160];
    redials()
      .slice(0, 6)
      .forEach((line, i) => {
        expect(line).toMatchObject({ code: 'UNAVAILABLE', failedAttempts: i + 1 });
        expect(line['retryInMs']).toBeGreaterThanOrEqual(steps[i]! / 2);
        expect(line['retryInMs']).toBeLessThanOrEqual(steps[i]!);
      });
    expect(client.status().connections).toBe(0);

    const port = Number(url.split(':')[1]);
    const stub = await CmStub.start({ port });
    cleanup.push(() => stub.stop());
    await stub.waitForConnection();
    stub.svmInfo('nobody');
    await stub.waitForMessage('svm_info');
    await stub.stop();
    await until(() => lines.some((l) => String(l['msg']).startsWith('the Computation Management stream ended')), 'the stream to end');
    const ended = lines.find((l) => String(l['msg']).startsWith('the Computation Management stream ended'));
    expect(ended).toMatchObject({ failedAttempts: 1 });
    expect(ended?.['retryInMs']).toBeLessThanOrEqual(20);
  });

  it('stop() ends the stream and the dialling at once, whatever the backoff', async () => {
    const { stub, client } = await setUp({ env: { MANAGER_CM_RECONNECT_MIN_DELAY: '1h', MANAGER_CM_RECONNECT_MAX_DELAY: '1h' } });
    await stub.waitForConnection();
    await stub.stop();
    await until(() => client.status().state === 'waiting', 'the wait');
    const started = Date.now();
    await client.stop();
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(client.status().state).toBe('stopped');
  });

  it('while no stream is open the queue stays bounded: the oldest messages are dropped and counted', async () => {
    const { stub, client, vms } = await setUp({ limits: { maxQueuedMessages: 5 } });
    await stub.waitForConnection();
    stub.sendRun({ id: 'comp-f' });
    await stub.waitForMessage('run_res');
    await until(() => stub.messages('agent_event').length === 3, 'the provision events');
    await stub.stop();
    await until(() => client.status().state === 'waiting', 'the client to notice');
    for (let n = 0; n < 50; n++) vms.agent('vm-1', { kind: 'log', computationId: '', level: 'info', message: `flood ${n}`, timestamp: null });
    // A VM the client did not start is not relayed at all.
    vms.agent('vm-x', { kind: 'log', computationId: '', level: 'info', message: 'unrelated', timestamp: null });
    expect(client.status()).toMatchObject({ queued: 5, dropped: 45 });
    await stub.restart();
    await stub.waitForConnection({ count: 2 });
    await until(() => stub.messages('agent_log').length === 5, 'the queued logs');
    expect(stub.messages('agent_log').map((l) => l.message)).toEqual(['flood 45', 'flood 46', 'flood 47', 'flood 48', 'flood 49']);
  });

  it("a gRPC server without Process (the manager's own, at the default MANAGER_GRPC_URL): UNIMPLEMENTED, redialled, with a hint", async () => {
    const server = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    cleanup.push(() => Promise.resolve(server.forceShutdown()));
    const { logger, lines } = memoryLogger();
    const started = await startClient({ url: `127.0.0.1:${port}` }, { logger });
    cleanup.push(() => started.client.stop());
    const ended = () => lines.filter((l) => String(l['msg']).startsWith('the Computation Management stream ended'));
    await until(() => ended().length >= 2, 'two streams refused');
    expect(ended()[0]).toMatchObject({ code: 'UNIMPLEMENTED', hint: expect.stringMatching(/is MANAGER_GRPC_URL Computation Management/) });
  });
});
