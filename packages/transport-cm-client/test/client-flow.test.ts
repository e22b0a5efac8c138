import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ManagerError } from '@cocos-manager/core';
import { decodeComputationRunReq, encodeComputationRunReq } from '@cocos-manager/contract';
import { CmStub } from '@cocos-manager/testing';
import { detailsOf, startClient, until, type FakeVms } from './fakes.js';

// Real sockets, processes and TLS: generous limits (each wait ends when its condition holds).
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

const run = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: 'addition',
  description: 'adds',
  algorithm: { hash: Buffer.alloc(32, 1), userKey: Buffer.from('algo-key') },
  datasets: [{ hash: Buffer.alloc(32, 2), userKey: Buffer.from('data-key'), filename: 'data.csv' }],
  result_consumers: [{ userKey: Buffer.from('consumer-key') }],
  agent_config: { port: '7002', log_level: 'debug', cert_file: PEM_CERT, key_file: PEM_KEY, server_ca_file: '/etc/agent/ca.pem' },
  ...extra,
});

const provisionStatuses = (stub: CmStub, id: string) =>
  stub
    .messages('agent_event')
    .filter((e) => e.computation_id === id && e.event_type === 'VmProvision')
    .map((e) => e.status);

describe('the Computation Management client against the stub', () => {
  let stub: CmStub;
  let stopClient: () => Promise<void> = async () => undefined;
  beforeEach(async () => {
    stub = await CmStub.start();
  });
  afterEach(async () => {
    await stopClient();
    await stub.stop();
  });

  async function connect(options: Parameters<typeof startClient>[1] = {}) {
    const started = await startClient(stub, options);
    stopClient = () => started.client.stop();
    await stub.waitForConnection();
    return started;
  }

  it('a chunked run: VM created from its agent config, manifest handed over, run_res with the port, events Starting → InProgress → Completed', async () => {
    const { vms, channel, client } = await connect();
    // 2.5 chunks of 64 KiB and the empty is_last: reassembled in order.
    const big = run('comp-1', { description: 'x'.repeat(160 * 1024) });
    expect(stub.sendRun(big, { chunkBytes: 64 * 1024 })).toBe(4);
    const res = await stub.waitForMessage('run_res');
    expect(res).toEqual({ agent_port: '6101', computation_id: 'comp-1' });
    await until(() => provisionStatuses(stub, 'comp-1').length === 3, 'three provision events');
    expect(provisionStatuses(stub, 'comp-1')).toEqual(['Starting', 'InProgress', 'Completed']);
    const events = stub.messages('agent_event');
    expect(events.every((e) => e.originator === 'manager' && e.timestamp !== null)).toBe(true);
    expect(detailsOf(events[2]!)).toEqual({ vm_id: 'vm-1', agent_port: '6101' });

    const [request] = (vms as FakeVms).created;
    expect(request?.agentLogLevel).toBe('debug');
    expect(Buffer.from(request!.agentCvmClientCert).toString()).toBe(PEM_CERT);
    expect(Buffer.from(request!.agentCvmClientKey).toString()).toBe(PEM_KEY);
    // A path is the agent's own file: not a certificate to hand over.
    expect(request?.agentCvmServerCaCert.byteLength).toBe(0);
    expect(request?.ttl).toBe('');

    const manifest = channel!.manifests[0]!;
    expect(manifest.vmId).toBe('vm-1');
    expect(Object.keys(manifest.manifest)[0]).toBe('id');
    expect(manifest.manifest).toMatchObject({
      id: 'comp-1',
      name: 'addition',
      description: big.description,
      algorithm: { hash: Array(32).fill(1), user_key: Buffer.from('algo-key').toString('base64') },
      datasets: [{ hash: Array(32).fill(2), user_key: Buffer.from('data-key').toString('base64'), filename: 'data.csv' }],
      result_consumers: [{ user_key: Buffer.from('consumer-key').toString('base64') }],
      agent_config: { port: '7002', log_level: 'debug', cert_file: '/etc/certs/cert.pem', key_file: '/etc/certs/key.pem', server_ca_file: '/etc/agent/ca.pem' },
    });
    expect(client.status()).toMatchObject({ state: 'connected', connections: 1, computations: 1 });
  });

  it('a whole runReq (unchunked) is run too', async () => {
    await connect();
    // proto-loader's runReq wants whole nested messages: the decoded form of the run.
    stub.send({ runReq: decodeComputationRunReq(encodeComputationRunReq(run('comp-whole'))) });
    expect(await stub.waitForMessage('run_res')).toEqual({ agent_port: '6101', computation_id: 'comp-whole' });
  });

  it('corrupt chunks: VmProvision Failed under the chunk id, no VM', async () => {
    const { vms } = await connect();
    stub.sendChunks('comp-bad', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    const failed = await stub.waitForMessage('agent_event', (e) => e.status === 'Failed');
    expect(failed).toMatchObject({ computation_id: 'comp-bad', event_type: 'VmProvision', originator: 'manager' });
    expect(String(detailsOf(failed)['error'])).toMatch(/does not parse/);
    expect((vms as FakeVms).created).toEqual([]);
  });

  it('a create that fails: Failed with the error, no run_res, the id free again', async () => {
    const { vms } = await connect();
    (vms as FakeVms).failCreate = new ManagerError('VM_CAPACITY_REACHED', 'MANAGER_MAX_VMS VMs exist');
    stub.sendRun(run('comp-full'));
    const failed = await stub.waitForMessage('agent_event', (e) => e.status === 'Failed');
    expect(detailsOf(failed)).toEqual({ error: 'VM_CAPACITY_REACHED: MANAGER_MAX_VMS VMs exist' });
    (vms as FakeVms).failCreate = null;
    stub.sendRun(run('comp-full'));
    expect(await stub.waitForMessage('run_res')).toMatchObject({ computation_id: 'comp-full' });
  });

  it('a manifest that cannot be handed over: Failed, the VM removed again', async () => {
    const { vms, channel } = await connect();
    channel!.fail = new ManagerError('AGENT_CHANNEL_UNREACHABLE', 'the agent did not take it');
    stub.sendRun(run('comp-deaf'));
    const failed = await stub.waitForMessage('agent_event', (e) => e.status === 'Failed');
    expect(String(detailsOf(failed)['error'])).toMatch(/^AGENT_CHANNEL_UNREACHABLE: /);
    await until(() => (vms as FakeVms).removed.length === 1, 'the VM removed');
    expect((vms as FakeVms).vms.size).toBe(0);
    expect(stub.messages('run_res')).toEqual([]);
  });

  it('without an agent channel every run fails saying why, and creates nothing', async () => {
    const { vms } = await connect({ channel: null });
    stub.sendRun(run('comp-x'));
    const failed = await stub.waitForMessage('agent_event', (e) => e.status === 'Failed');
    expect(String(detailsOf(failed)['error'])).toMatch(/no agent channel.*agent-channel plugin is not loaded/);
    expect((vms as FakeVms).created).toEqual([]);
  });

  it('a second run of a running computation is refused', async () => {
    await connect();
    stub.sendRun(run('comp-twice'));
    await stub.waitForMessage('run_res');
    stub.sendRun(run('comp-twice'));
    const failed = await stub.waitForMessage('agent_event', (e) => e.status === 'Failed');
    expect(String(detailsOf(failed)['error'])).toMatch(/already running/);
  });

  it('svmInfoReq, attestationPolicyReq and stopComputation of a running computation; unknown ids get the empty answers', async () => {
    const { vms } = await connect();
    stub.sendRun(run('comp-2'));
    await stub.waitForMessage('run_res');
    stub.svmInfo('comp-2');
    expect(await stub.waitForMessage('svm_info')).toEqual({
      id: 'comp-2',
      ovmf_version: 'edk2-test',
      cpu_num: 2,
      cpu_type: 'EPYC',
      kernel_cmd: 'quiet console=null',
      eos_version: 'eos-1',
    });
    stub.attestationPolicy('comp-2');
    const policy = await stub.waitForMessage('attestationPolicy');
    expect({ id: policy.id, info: policy.info.toString() }).toEqual({ id: 'comp-2', info: 'policy of vm-1' });
    stub.svmInfo('nobody');
    expect(await stub.waitForMessage('svm_info', (i) => i.id === 'nobody')).toMatchObject({ cpu_num: 0, ovmf_version: '' });
    stub.attestationPolicy('nobody');
    expect((await stub.waitForMessage('attestationPolicy', (p) => p.id === 'nobody')).info.byteLength).toBe(0);

    stub.stopComputation('comp-2');
    expect(await stub.waitForMessage('stopComputationRes')).toEqual({ computation_id: 'comp-2', message: '' });
    expect((vms as FakeVms).removed).toEqual(['vm-1']);
    const stopped = await stub.waitForMessage('agent_event', (e) => e.event_type === 'StopComputationRun');
    expect(stopped).toMatchObject({ computation_id: 'comp-2', status: 'Completed', originator: 'manager' });

    stub.stopComputation('comp-2');
    const again = await stub.waitForMessage('stopComputationRes', (r) => r.message !== '');
    expect(again).toEqual({ computation_id: 'comp-2', message: 'no computation comp-2 runs on this manager' });
  });

  it("relays the agent's logs and events of its VMs under their computation, not the guest's word; others' VMs stay unheard", async () => {
    const { vms } = await connect();
    stub.sendRun(run('comp-3'));
    await stub.waitForMessage('run_res');
    const fake = vms as FakeVms;
    fake.agent('vm-1', { kind: 'log', computationId: '', level: 'info', message: 'agent up', timestamp: '2025-01-02T03:04:05.123456789Z' });
    const details = new Uint8Array(Buffer.from('{"step":1}'));
    fake.agent('vm-1', { kind: 'event', computationId: 'comp-other', eventType: 'Boot', status: 'Completed', originator: 'manager', details, timestamp: null });
    fake.agent('vm-someone-else', { kind: 'log', computationId: 'comp-3', level: 'info', message: 'not ours', timestamp: null });
    const log = await stub.waitForMessage('agent_log');
    expect(log).toEqual({ message: 'agent up', computation_id: 'comp-3', level: 'info', timestamp: { seconds: '1735787045', nanos: 123456789 } });
    const event = await stub.waitForMessage('agent_event', (e) => e.event_type === 'Boot');
    expect(event).toMatchObject({ computation_id: 'comp-3', originator: 'agent', status: 'Completed' });
    expect(event.details.toString()).toBe('{"step":1}');
    expect(event.timestamp).not.toBeNull();
    expect(stub.messages('agent_log').map((l) => l.message)).toEqual(['agent up']);
  });

  it('terminateReq: the stream closes, the client redials after the longest backoff, computations stay', async () => {
    const { client } = await connect({ env: { MANAGER_CM_RECONNECT_MAX_DELAY: '300ms' } });
    stub.sendRun(run('comp-4'));
    await stub.waitForMessage('run_res');
    stub.terminate('maintenance');
    await stub.waitForConnection({ count: 2 });
    expect(client.status()).toMatchObject({ connections: 2, computations: 1 });
    stub.svmInfo('comp-4');
    expect(await stub.waitForMessage('svm_info')).toMatchObject({ id: 'comp-4', cpu_num: 2 });
  });

  it('a VM removed elsewhere is forgotten: its computation is gone', async () => {
    const { vms, client } = await connect();
    stub.sendRun(run('comp-5'));
    await stub.waitForMessage('run_res');
    await (vms as FakeVms).remove('vm-1');
    await until(() => client.status().computations === 0, 'the computation forgotten');
  });
});
