import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmStub } from '@cocos-manager/testing';
import { parseGuestAnswer, pidsWithArg, startManager, until, waitForGuest, type RunningManager, type WireVm } from './harness.js';

/** The dev guest's agent page once it shows `key` (the manifest comes after boot). */
async function guestPageWith(port: number, key: string, timeoutMs: number): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = await waitForGuest(port, Math.max(1000, deadline - Date.now())).catch(() => last);
    const answer = parseGuestAnswer(last);
    if (answer[key] !== undefined) return answer;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the guest on port ${port} did not show ${key} within ${timeoutMs} ms; its page:\n${last}`);
}

const listVms = async (m: RunningManager) => (await m.call<{ vms: WireVm[] }>('ListVms', {})).vms;

describe('Computation Management client mode: the real binary, the dev guest over virtio-serial, the stub', () => {
  let stub: CmStub;
  let m: RunningManager;
  const computationId = `comp-${randomUUID()}`;
  let port = 0;
  let vm: WireVm;

  beforeAll(async () => {
    stub = await CmStub.start();
    m = await startManager('6850-6854', {
      MANAGER_CM_CLIENT_ENABLE: 'true',
      MANAGER_GRPC_URL: stub.url,
      MANAGER_AGENT_CHANNEL: 'virtio-serial',
      MANAGER_CM_RECONNECT_MIN_DELAY: '200ms',
      MANAGER_CM_RECONNECT_MAX_DELAY: '2s',
      MANAGER_STOP_VMS_ON_EXIT: 'true',
      MANAGER_VM_POWERDOWN_TIMEOUT: '2s',
    });
    await stub.waitForConnection();
  });
  afterAll(async () => {
    await m?.dispose();
    await stub?.stop();
  });

  it('a chunked run request starts a VM: run_res carries its forwarded port, VmProvision Starting → InProgress → Completed', async () => {
    const run = {
      id: computationId,
      name: 'e2e addition',
      // Several chunks (8 KiB here; upstream's are 1 MiB), small enough for the manifest port's buffers before the guest reads it.
      description: 'd'.repeat(40 * 1024),
      algorithm: { hash: Buffer.alloc(32, 0xa1), userKey: Buffer.from('-----BEGIN PUBLIC KEY-----\nALGO\n-----END PUBLIC KEY-----\n') },
      datasets: [{ hash: Buffer.alloc(32, 0xd1), userKey: Buffer.from('-----BEGIN PUBLIC KEY-----\nDATA\n-----END PUBLIC KEY-----\n'), filename: 'data.csv' }],
      result_consumers: [{ userKey: Buffer.from('-----BEGIN PUBLIC KEY-----\nRESULT\n-----END PUBLIC KEY-----\n') }],
      agent_config: { port: '7002', log_level: 'debug' },
    };
    expect(stub.sendRun(run, { chunkBytes: 8 * 1024 })).toBeGreaterThan(5);
    const res = await stub.waitForMessage('run_res', (r) => r.computation_id === computationId, 180_000);
    port = Number(res.agent_port);
    expect(port).toBeGreaterThanOrEqual(6850);
    expect(port).toBeLessThanOrEqual(6854);

    const vms = await listVms(m);
    expect(vms).toHaveLength(1);
    vm = vms[0]!;
    expect(vm).toMatchObject({ state: 'running', forwarded_port: String(port) });

    const provision = stub.messages('agent_event').filter((e) => e.computation_id === computationId && e.event_type === 'VmProvision');
    expect(provision.map((e) => [e.originator, e.status])).toEqual([
      ['manager', 'Starting'],
      ['manager', 'InProgress'],
      ['manager', 'Completed'],
    ]);
    expect(JSON.parse(provision[2]!.details.toString())).toEqual({ vm_id: vm.id, agent_port: String(port) });

    // The guest booted with its configuration and the run's log level; its agent port is the forwarded one.
    const answer = parseGuestAnswer(await waitForGuest(port));
    expect(answer['AGENT_CVM_ID']).toBe(vm.id);
  });

  // Needs the dev guest that reads /dev/virtio-ports/cocos.manifest (tools/dev-guest, rebuilt into build/dev-guest).
  it("the guest's agent page shows MANIFEST_ID: the run's computation id reached it over the manifest port", async () => {
    expect(port).toBeGreaterThan(0);
    const answer = await guestPageWith(port, 'MANIFEST_ID', 90_000);
    expect(answer['MANIFEST_ID']).toBe(computationId);
  });

  // Needs the same dev guest: it sends an AgentEvent at boot and one with the computation id after the manifest.
  it("the guest's agent events reach the stub as agent_event under the computation id", async () => {
    const fromGuest = (e: { originator: string; computation_id: string }) => e.originator !== 'manager' && e.computation_id === computationId;
    await stub.waitForMessage('agent_event', fromGuest, 90_000);
    // The boot event (sent before the guest knew its computation) and the one after the manifest: both carry the run's id.
    await until(() => stub.messages('agent_event').filter(fromGuest).length >= 2, 90_000, 'the guest boot event and its post-manifest event');
  });

  it('svmInfoReq and attestationPolicyReq about the computation are answered (its VM’s CVMInfo; no policy on the plain backend)', async () => {
    stub.svmInfo(computationId);
    const info = await stub.waitForMessage('svm_info', (i) => i.id === computationId);
    const cvm = await m.call<Record<string, unknown>>('CVMInfo', { id: vm.id });
    expect(info).toEqual({ ...cvm, id: computationId });
    expect(info.cpu_num).toBeGreaterThan(0);

    stub.attestationPolicy(computationId);
    const policy = await stub.waitForMessage('attestationPolicy', (p) => p.id === computationId);
    await expect(m.call('AttestationPolicy', { id: vm.id })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });
    expect(policy.info.byteLength).toBe(0);
  });

  it('the stub restarting mid-run: the manager reconnects, the VM keeps running and is still its computation', async () => {
    const before = stub.connections;
    await stub.restart();
    await stub.waitForConnection({ count: before + 1 });
    const vms = await listVms(m);
    expect(vms.map((v) => [v.id, v.state, v.pid])).toEqual([[vm.id, 'running', vm.pid]]);
    expect(parseGuestAnswer(await waitForGuest(port))['AGENT_CVM_ID']).toBe(vm.id);
    stub.svmInfo(computationId);
    const onNewStream = () => stub.received.find((r) => r.connection === before + 1 && r.message.message === 'svm_info');
    await until(() => onNewStream() !== undefined, 60_000, 'svm_info on the new stream');
    expect(onNewStream()?.message).toMatchObject({ svm_info: { id: computationId } });
    expect(m.output()).toContain('the Computation Management stream ended; VMs keep running, redialling');
  });

  it('stopComputation removes the VM and answers stopComputationRes with an empty message, and a StopComputationRun event', async () => {
    stub.stopComputation(computationId);
    const res = await stub.waitForMessage('stopComputationRes', (r) => r.computation_id === computationId, 120_000);
    expect(res.message).toBe('');
    const stopped = await stub.waitForMessage('agent_event', (e) => e.event_type === 'StopComputationRun' && e.computation_id === computationId);
    expect(stopped).toMatchObject({ originator: 'manager', status: 'Completed' });
    expect(await listVms(m)).toEqual([]);
    await until(() => pidsWithArg(m.runDir).length === 0, 60_000, 'QEMU gone');
    stub.svmInfo(computationId);
    expect(await stub.waitForMessage('svm_info', (i) => i.id === computationId && i.cpu_num === 0)).toMatchObject({ ovmf_version: '' });
  });
});
