import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CREATE_FAULTS,
  ERROR_CATALOGUE,
  HOST,
  HostEnvironment,
  ManagerError,
  type ErrorCatalogueEntry,
  type ErrorKind,
  type WireTransport,
} from '@cocos-manager/core';
import { PORT_ALLOCATOR, PortAllocator, STATE_STORE, StateStore } from '@cocos-manager/core/internal';
import { deviceGpuPlugin } from '@cocos-manager/device-gpu';
import { FakeLauncher, FaultyStateFiles } from '@cocos-manager/testing';
import { REPO } from './harness.js';
import { scratchDir, startWireManager, type WireFailure, type WireManager, type WireOptions } from './error-wire-harness.js';

/**
 * Every code a call can fail with, on the wire of each transport the
 * catalogue says can carry it: gRPC's cocos-error-code and HTTP's
 * error.reason, each with its status, the message led by the code. Each
 * failure is made for real where this process can make it (a full state disk,
 * a port range of one port, a token file, QEMU dying at start…); the
 * backend-specific measurement failures come from a backend that raises them
 * (their own packages test when they are raised).
 */
const seen = new Map<ErrorKind, Set<WireTransport>>();
const managers: WireManager[] = [];
const scratch: Array<{ remove(): void }> = [];
afterAll(async () => {
  for (const m of managers) await m.stop();
  for (const s of scratch) s.remove();
});

async function wire(options: WireOptions = {}): Promise<WireManager> {
  const m = await startWireManager(options);
  managers.push(m);
  return m;
}

function expectCode(failure: WireFailure, kind: ErrorKind): void {
  const entry: ErrorCatalogueEntry = ERROR_CATALOGUE[kind];
  expect(failure, `${failure.transport}: ${failure.message}`).toMatchObject({
    reason: kind,
    status: failure.transport === 'grpc' ? entry.grpcStatus : entry.httpStatus,
  });
  expect(failure.message.startsWith(`${kind}: `)).toBe(true);
  if (!seen.has(kind)) seen.set(kind, new Set());
  seen.get(kind)!.add(failure.transport);
}

const json = { 'content-type': 'application/json' };
const post = (body: unknown) => ({ body: JSON.stringify(body), headers: json });

describe('error codes on the wire, gRPC and HTTP', () => {
  it('request checks, lookups, formats and the browser rules', async () => {
    const m = await wire({ env: { MANAGER_GRPC_SERVER_MAX_HEADER_BYTES: '4096', MANAGER_HTTP_MAX_STREAMS: '1', MANAGER_GRPC_MAX_STREAMS: '1' } });
    const bad = { agent_cvm_server_url: 'https://cm\nexample' };
    expectCode(await m.grpc('CreateVm', bad), 'REQUEST_FIELD_INVALID');
    expectCode(await m.http('POST', '/vms', post(bad)), 'REQUEST_FIELD_INVALID');
    expectCode(await m.grpc('CreateVm', { ttl: 'banana' }), 'TTL_INVALID');
    expectCode(await m.http('POST', '/vms', post({ ttl: 'banana' })), 'TTL_INVALID');
    expectCode(await m.grpc('GetVm', { id: 'nope' }), 'VM_NOT_FOUND');
    expectCode(await m.http('GET', '/vms/nope'), 'VM_NOT_FOUND');
    // A page token not of this manager's making, and a page size that is no count.
    expectCode(await m.grpc('ListVms', { page_size: 10, page_token: 'forged' }), 'PAGE_TOKEN_INVALID');
    expectCode(await m.http('GET', '/vms?page_size=10&page_token=forged'), 'PAGE_TOKEN_INVALID');
    expectCode(await m.grpc('ListVms', { page_size: -1 }), 'REQUEST_FIELD_INVALID');
    expectCode(await m.http('GET', '/vms?page_size=ten'), 'REQUEST_FIELD_INVALID');
    const { cvm_id: id } = await m.grpcOk<{ cvm_id: string }>('CreateVm', {});
    expectCode(await m.grpc('AttestationPolicy', { id }, { 'cocos-policy-format': 'xml' }), 'POLICY_FORMAT_UNKNOWN');
    expectCode(await m.http('GET', `/vms/${id}/attestation-policy?format=xml`), 'POLICY_FORMAT_UNKNOWN');
    // The inert backend has no TEE: nothing to attest.
    expectCode(await m.grpc('AttestationPolicy', { id }), 'ATTESTATION_UNAVAILABLE');
    expectCode(await m.http('GET', `/vms/${id}/attestation-policy`), 'ATTESTATION_UNAVAILABLE');
    expectCode(await m.http('POST', '/vms', post([])), 'REQUEST_BODY_INVALID');
    expectCode(await m.http('POST', '/vms', { body: JSON.stringify({ ttl: 'x'.repeat(8 << 20) }), headers: json }), 'REQUEST_TOO_LARGE');
    expectCode(await m.http('POST', '/vms', { body: '{}', headers: { 'content-type': 'text/plain' } }), 'UNSUPPORTED_MEDIA_TYPE');
    expectCode(await m.http('GET', '/no-such-route'), 'ROUTE_NOT_FOUND');
    expectCode(await m.http('GET', '/vms', { headers: { origin: 'http://evil.example' } }), 'ORIGIN_NOT_ALLOWED');
    expectCode(await m.http('GET', '/vms', { headers: { host: 'evil.example' } }), 'HOST_NOT_ALLOWED');
    expectCode(await m.grpc('ListVms', {}, { 'x-padding': 'p'.repeat(8192) }), 'CALL_METADATA_TOO_LARGE');
    expect(await m.openStream('/events')).toBe(200);
    expectCode(await m.http('GET', '/events'), 'STREAM_LIMIT_REACHED');
    expect(await m.watch()).toBeNull();
    const refused = await m.watch();
    expect(refused).not.toBeNull();
    expectCode(refused!, 'STREAM_LIMIT_REACHED');
  });

  it('limits: VMs, ports, the state disk', async () => {
    const one = await wire({ env: { MANAGER_MAX_VMS: '1' } });
    await one.grpcOk('CreateVm', {});
    expectCode(await one.grpc('CreateVm', {}), 'VM_CAPACITY_REACHED');
    expectCode(await one.http('POST', '/vms', post({})), 'VM_CAPACITY_REACHED');

    const ports = await wire({ overrides: [{ token: PORT_ALLOCATOR, useValue: new PortAllocator({ first: 7390, last: 7390 }, async () => true) }] });
    await ports.grpcOk('CreateVm', {});
    expectCode(await ports.grpc('CreateVm', {}), 'PORTS_EXHAUSTED');
    expectCode(await ports.http('POST', '/vms', post({})), 'PORTS_EXHAUSTED');

    // A recorded host with two GPUs on vfio-pci; the pool is one of them.
    const gpus = await wire({
      plugins: [deviceGpuPlugin],
      env: { MANAGER_QEMU_GPU_BDF: '0000:41:00.0' },
      overrides: [{ token: HOST, useValue: new HostEnvironment(path.join(REPO, 'packages/device-gpu/test/fixtures/two-gpus-on-vfio')) }],
    });
    await gpus.grpcOk('CreateVm', {});
    expectCode(await gpus.grpc('CreateVm', {}), 'DEVICE_POOL_EXHAUSTED');
    expectCode(await gpus.http('POST', '/vms', post({})), 'DEVICE_POOL_EXHAUSTED');

    const dir = scratchDir();
    scratch.push(dir);
    const files = new FaultyStateFiles();
    const disk = await wire({ env: { MANAGER_STATE_DIR: dir.dir }, overrides: [{ token: STATE_STORE, useValue: new StateStore(dir.dir, files) }] });
    files.fill();
    expectCode(await disk.grpc('CreateVm', {}), 'STATE_DISK_FULL');
    expectCode(await disk.http('POST', '/vms', post({})), 'STATE_DISK_FULL');
    files.heal();
    files.fail('fsync', 'EIO');
    expectCode(await disk.grpc('CreateVm', {}), 'STATE_WRITE_FAILED');
    expectCode(await disk.http('POST', '/vms', post({})), 'STATE_WRITE_FAILED');
  });

  it('QEMU and the create: spawn, early exit, silent QMP, a failing step, a slow call', async () => {
    const launcher = new FakeLauncher();
    let faulty = false;
    const faults = {
      after: (step: string) => {
        // Not a ManagerError: an unforeseen failure inside the create.
        if (faulty && step === 'spawn') throw new Error('a step failed unexpectedly (injected)');
      },
    };
    // Every wait here is far from what decides the outcome, so a slow machine changes nothing.
    const m = await wire({ launcher, env: { MANAGER_VM_START_TIMEOUT: '5s' }, overrides: [{ token: CREATE_FAULTS, useValue: faults }] });
    faulty = true;
    expectCode(await m.grpc('CreateVm', {}), 'VM_CREATE_FAILED');
    expectCode(await m.http('POST', '/vms', post({})), 'VM_CREATE_FAILED');
    faulty = false;
    for (const call of [() => m.grpc('CreateVm', {}), () => m.http('POST', '/vms', post({}))]) {
      launcher.script({ spawnFails: true });
      expectCode(await call(), 'VM_PREPARE_FAILED');
      // QMP never answers; the process exits on its own long before the 5 s start timeout.
      launcher.script({ qmp: 'silent', exitAfterMs: 20 });
      expectCode(await call(), 'QEMU_EXITED_AT_START');
    }
    // A QEMU that never answers QMP: the start timeout ends the create.
    const slowLauncher = new FakeLauncher({ qmp: 'silent' });
    const slow = await wire({ launcher: slowLauncher, env: { MANAGER_VM_START_TIMEOUT: '100ms' } });
    expectCode(await slow.grpc('CreateVm', {}), 'QEMU_START_TIMEOUT');
    expectCode(await slow.http('POST', '/vms', post({})), 'QEMU_START_TIMEOUT');
    // MANAGER_GRPC_TIMEOUT (200 ms) ends the call; the create itself would wait 3 s for QMP.
    const deadline = await wire({ launcher: new FakeLauncher({ qmp: 'silent' }), env: { MANAGER_VM_START_TIMEOUT: '3s', MANAGER_GRPC_TIMEOUT: '200ms' } });
    expectCode(await deadline.grpc('CreateVm', {}), 'CALL_DEADLINE_EXCEEDED');
  });

  it('failures a backend raises: measurements, reference values, policies without measurements, the unexpected', async () => {
    let next: () => never = () => {
      throw new Error('unset');
    };
    const m = await wire({
      backend: { attestationPolicy: async () => next() },
    });
    const { cvm_id: id } = await m.grpcOk<{ cvm_id: string }>('CreateVm', {});
    for (const kind of ['LAUNCH_MEASUREMENT_FAILED', 'REFERENCE_VALUES_INVALID'] as const) {
      next = () => {
        throw new ManagerError(kind, `the ${kind.toLowerCase()} case`);
      };
      expectCode(await m.grpc('AttestationPolicy', { id }), kind);
      expectCode(await m.http('GET', `/vms/${id}/attestation-policy`), kind);
    }
    next = () => {
      throw new Error('EACCES: /var/lib/cocos/secret');
    };
    expectCode(await m.grpc('AttestationPolicy', { id }), 'INTERNAL_ERROR');
    expectCode(await m.http('GET', `/vms/${id}/attestation-policy`), 'INTERNAL_ERROR');

    // A document without reference measurements: core's CoRIM encoding refuses it.
    const empty = await wire({ backend: { attestationPolicy: async () => ({ tee: 'inert', policy: {}, measurements: [] }) as never } });
    const { cvm_id: other } = await empty.grpcOk<{ cvm_id: string }>('CreateVm', {});
    expectCode(await empty.grpc('AttestationPolicy', { id: other }), 'POLICY_WITHOUT_MEASUREMENTS');
    expectCode(await empty.http('GET', `/vms/${other}/attestation-policy`), 'POLICY_WITHOUT_MEASUREMENTS');
  });

  it('authentication and roles', async () => {
    const dir = scratchDir();
    scratch.push(dir);
    const tokens = path.join(dir.dir, 'tokens');
    writeFileSync(tokens, `reader watcher ${'r'.repeat(32)}\nadmin ops ${'a'.repeat(32)}\n`, { mode: 0o600 });
    const m = await wire({ env: { MANAGER_AUTH_TOKENS_FILE: tokens } });
    expectCode(await m.grpc('ListVms', {}), 'CREDENTIALS_REQUIRED');
    expectCode(await m.http('GET', '/vms'), 'CREDENTIALS_REQUIRED');
    const reader = `Bearer ${'r'.repeat(32)}`;
    expectCode(await m.grpc('CreateVm', {}, { authorization: reader }), 'ROLE_INSUFFICIENT');
    expectCode(await m.http('POST', '/vms', { body: '{}', headers: { ...json, authorization: reader } }), 'ROLE_INSUFFICIENT');
  });

  it('after a restart: a VM being re-adopted, and one that was not', async () => {
    const dir = scratchDir();
    scratch.push(dir);
    const env = { MANAGER_STATE_DIR: path.join(dir.dir, 'state'), MANAGER_RUN_DIR: path.join(dir.dir, 'run') };
    const launcher = new FakeLauncher();
    const first = await startWireManager({ launcher, env });
    const { cvm_id: id } = await first.grpcOk<{ cvm_id: string }>('CreateVm', {});
    await first.stop({ removeVms: false });
    // The same backend, slow to tell whether the saved QEMU is still ours: the VM is being re-adopted.
    launcher.identifyDelayMs = 1500;
    const again = await startWireManager({ launcher, env, serveDuringStart: true });
    expectCode(await again.grpc('CVMInfo', { id }), 'VM_READOPTING');
    expectCode(await again.http('GET', `/vms/${id}/info`), 'VM_READOPTING');
    // A page lists it meanwhile: while a VM is not in the table yet, pages are cut from every summary.
    expect((await again.grpcOk<{ vms: { id: string }[] }>('ListVms', { page_size: 10 })).vms.map((v) => v.id)).toEqual([id]);
    await again.started;
    await again.stop({ removeVms: false });
    // A manager without that VM's backend refuses to re-adopt it.
    launcher.identifyDelayMs = 0;
    const other = await wire({ launcher, env, backend: { name: 'other' } });
    expectCode(await other.grpc('CVMInfo', { id }), 'VM_NOT_READOPTED');
    expectCode(await other.http('GET', `/vms/${id}/info`), 'VM_NOT_READOPTED');
    expect((await other.grpcOk<{ vms: { id: string }[] }>('ListVms', { page_size: 10 })).vms.map((v) => v.id)).toEqual([id]);
  });

  it('every call code of the catalogue was seen on each transport it names', () => {
    const missing = Object.entries<ErrorCatalogueEntry>(ERROR_CATALOGUE)
      .filter(([, e]) => e.scope === 'call')
      .flatMap(([kind, e]) => e.transports.filter((t) => !seen.get(kind as ErrorKind)?.has(t)).map((t) => `${kind} on ${t}`));
    expect(missing).toEqual([]);
  });
});
