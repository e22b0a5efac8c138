import { afterEach, describe, expect, it, vi } from 'vitest';
import { CmStub } from '@cocos-manager/testing';
import { detailsOf, memoryLogger, startClient, until } from './fakes.js';

// Real sockets, processes and TLS: generous limits (each wait ends when its condition holds).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

describe('what Computation Management sends is checked and bounded', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.reverse()) await step();
    cleanup = [];
  });
  async function setUp(options: Parameters<typeof startClient>[1] = {}) {
    const stub = await CmStub.start();
    cleanup.push(() => stub.stop());
    const { logger, lines } = memoryLogger();
    const started = await startClient(stub, { logger, ...options });
    cleanup.push(() => started.client.stop());
    await stub.waitForConnection();
    return { stub, lines, ...started };
  }

  it('requests without a valid id are not acted on (nor echoed); the stream goes on', async () => {
    const { stub, lines, calls } = await setUp();
    stub.svmInfo('');
    stub.attestationPolicy('x'.repeat(300));
    stub.stopComputation('line\nbreak');
    stub.send({ runReq: { name: 'no id' } });
    stub.send({ runReqChunks: { id: '', data: Buffer.from('x'), is_last: true } });
    stub.svmInfo('fine');
    expect(await stub.waitForMessage('svm_info')).toMatchObject({ id: 'fine' });
    expect(stub.messages('attestationPolicy')).toEqual([]);
    expect(stub.messages('stopComputationRes')).toEqual([]);
    expect(stub.messages('agent_event')).toEqual([]);
    expect(lines.filter((l) => String(l['msg']).includes('without a valid id')).length).toBe(3);
    expect(calls.filter((c) => c.code === 'INVALID_ARGUMENT').length).toBe(5);
    expect(calls.find((c) => c.method === 'svmInfoReq' && c.code === 'NOT_FOUND')).toMatchObject({ transport: 'cm-client' });
  });

  it('a partial run idle past partialIdleMs is dropped and reported failed; its late last chunk is no run', async () => {
    const { stub, vms } = await setUp({ limits: { partialIdleMs: 300 } });
    stub.sendChunks('comp-idle', Buffer.alloc(100, 1), { last: false });
    const failed = await stub.waitForMessage('agent_event', (e) => e.status === 'Failed');
    expect(failed).toMatchObject({ computation_id: 'comp-idle', event_type: 'VmProvision' });
    expect(String(detailsOf(failed)['error'])).toMatch(/no chunk of the run request for 300 ms: dropped/);
    stub.sendChunks('comp-idle', Buffer.alloc(0));
    const empty = await stub.waitForMessage('agent_event', (e) => e.status === 'Failed' && String(detailsOf(e)['error']).includes('empty'));
    expect(empty.computation_id).toBe('comp-idle');
    expect(vms.created).toEqual([]);
  });

  it('an oversized run is refused once and its remaining chunks dropped quietly', async () => {
    const { stub, vms } = await setUp({ limits: { maxRunBytes: 1000 } });
    stub.sendChunks('comp-big', Buffer.alloc(5000, 1), { chunkBytes: 400 });
    const failed = await stub.waitForMessage('agent_event', (e) => e.status === 'Failed');
    expect(String(detailsOf(failed)['error'])).toMatch(/larger than 1000 bytes/);
    stub.svmInfo('after');
    await stub.waitForMessage('svm_info');
    expect(stub.messages('agent_event').filter((e) => e.status === 'Failed')).toHaveLength(1);
    expect(vms.created).toEqual([]);
  });

  it('a stream that ends mid-run: the partial run is reported failed (on the next stream), never run', async () => {
    const { stub, vms } = await setUp();
    stub.sendChunks('comp-cut', Buffer.alloc(100, 1), { last: false });
    // Answered after the chunks were read (one stream keeps its order).
    stub.svmInfo('sync');
    await stub.waitForMessage('svm_info');
    await stub.restart();
    await stub.waitForConnection({ count: 2 });
    const failed = await stub.waitForMessage('agent_event', (e) => e.status === 'Failed');
    expect(failed.computation_id).toBe('comp-cut');
    expect(String(detailsOf(failed)['error'])).toMatch(/stream ended before the last chunk/);
    expect(vms.created).toEqual([]);
  });

  it('requests over the in-flight bound are dropped, not queued without end', async () => {
    const { stub, vms, lines } = await setUp({ limits: { maxRequestsInFlight: 2 } });
    stub.sendRun({ id: 'comp-slow' });
    await stub.waitForMessage('run_res');
    // Stops wait on removals: hold them.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const remove = vms.remove.bind(vms);
    vms.remove = async (id: string) => {
      await held;
      return remove(id);
    };
    for (let n = 0; n < 5; n++) stub.stopComputation('comp-slow');
    await until(() => lines.filter((l) => String(l['msg']).includes('requests are being answered already')).length === 3, 'three dropped');
    release();
    await until(() => stub.messages('stopComputationRes').length === 2, 'two answers');
    expect(stub.messages('stopComputationRes').map((r) => r.message)).toEqual(['', '']);
  });

  it('terminateReq text is logged cut to a bound', async () => {
    const { stub, lines } = await setUp();
    stub.terminate('t'.repeat(5000));
    await until(() => lines.some((l) => String(l['msg']).startsWith('Computation Management sent terminateReq')), 'the log line');
    const line = lines.find((l) => String(l['msg']).startsWith('Computation Management sent terminateReq'));
    expect(String(line?.['message']).length).toBe(1024);
  });
});
