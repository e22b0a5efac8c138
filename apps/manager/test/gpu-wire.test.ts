import path from 'node:path';
import { credentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST, HostEnvironment, PROCESS_LAUNCHER, TRANSPORT, type Transport } from '@cocos-manager/core';
import { PORT_ALLOCATOR, PortAllocator } from '@cocos-manager/core/internal';
import { loadManagerProto, type CreateRes, type ListVmsRes, type VmInfo } from '@cocos-manager/contract';
import { deviceGpuPlugin } from '@cocos-manager/device-gpu';
import { createInertBackendPlugin, FakeLauncher, PLACEHOLDER_FILE, startTestManager, type TestManager } from '@cocos-manager/testing';
import { grpcTransportPlugin } from '@cocos-manager/transport-grpc';
import { httpTransportPlugin } from '@cocos-manager/transport-http';
import { REPO } from './harness.js';

/** A recorded host with two NVIDIA GPUs bound to vfio-pci (the device-gpu plugin's fixture). */
const GPU_HOST = path.join(REPO, 'packages/device-gpu/test/fixtures/two-gpus-on-vfio');

type Call = (request: unknown, callback: (err: ServiceError | null, response: unknown) => void) => void;

describe('GPUs on the wire: gRPC CreateVm/GetVm/ListVms and the REST mirror (fake QEMU, recorded /sys)', () => {
  let t: TestManager;
  let grpc: Client & Record<string, Call>;
  let httpPort = 0;
  const call = <T>(method: string, request: unknown) =>
    new Promise<T>((resolve, reject) => grpc[method]!(request, (err, response) => (err ? reject(err) : resolve(response as T))));

  beforeAll(async () => {
    const boot = PLACEHOLDER_FILE;
    t = await startTestManager({
      plugins: [createInertBackendPlugin(), deviceGpuPlugin, grpcTransportPlugin, httpTransportPlugin],
      env: { MANAGER_QEMU_DISK_IMG_KERNEL_FILE: boot, MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: boot, MANAGER_QEMU_GPU_BDF: '0000:41:00.0,0000:c1:00.0' },
      overrides: [
        { token: PROCESS_LAUNCHER, useValue: new FakeLauncher() },
        { token: PORT_ALLOCATOR, useValue: new PortAllocator({ first: 7200, last: 7209 }, async () => true) },
        { token: HOST, useValue: new HostEnvironment(GPU_HOST) },
      ],
    });
    const transports = t.manager.container.resolveAll<Transport & { port(): number }>(TRANSPORT);
    const { ManagerService } = loadManagerProto();
    grpc = new ManagerService(`127.0.0.1:${transports.find((x) => x.name === 'grpc')!.port()}`, credentials.createInsecure()) as Client & Record<string, Call>;
    httpPort = transports.find((x) => x.name === 'http')!.port();
  });
  afterAll(async () => {
    grpc?.close();
    await t?.stop();
  });

  it('two VMs get the two GPUs, the third CreateVm is RESOURCE_EXHAUSTED, RemoveVm frees one', async () => {
    const a = await call<CreateRes>('CreateVm', {});
    const b = await call<CreateRes>('CreateVm', {});
    expect((await call<VmInfo>('GetVm', { id: a.cvm_id })).gpus).toEqual(['0000:41:00.0']);
    expect((await call<VmInfo>('GetVm', { id: b.cvm_id })).gpus).toEqual(['0000:c1:00.0']);
    const listed = await call<ListVmsRes>('ListVms', {});
    expect(Object.fromEntries(listed.vms.map((vm) => [vm.id, vm.gpus]))).toEqual({ [a.cvm_id]: ['0000:41:00.0'], [b.cvm_id]: ['0000:c1:00.0'] });
    const rest = (await (await fetch(`http://127.0.0.1:${httpPort}/vms/${b.cvm_id}`)).json()) as { gpus: string[] };
    expect(rest.gpus).toEqual(['0000:c1:00.0']);
    // The status page's pool: what the GPU device reports of itself (the HTTP transport knows no GPU).
    const host = (await (await fetch(`http://127.0.0.1:${httpPort}/host`)).json()) as Record<string, unknown>;
    expect(host).toMatchObject({ gpus_in_use: ['0000:41:00.0', '0000:c1:00.0'], gpu_pool: ['0000:41:00.0', '0000:c1:00.0'] });

    const refused = await call('CreateVm', {}).then(
      () => null,
      (e: ServiceError) => e,
    );
    expect(refused?.code).toBe(8); // RESOURCE_EXHAUSTED
    expect(refused?.details).toBe('DEVICE_POOL_EXHAUSTED: every GPU in MANAGER_QEMU_GPU_BDF (2) is passed through to a VM; remove one first');
    expect(refused?.metadata.get('cocos-error-code')).toEqual(['DEVICE_POOL_EXHAUSTED']);

    await call('RemoveVm', { cvm_id: a.cvm_id });
    const c = await call<CreateRes>('CreateVm', {});
    expect((await call<VmInfo>('GetVm', { id: c.cvm_id })).gpus).toEqual(['0000:41:00.0']);
    const after = (await (await fetch(`http://127.0.0.1:${httpPort}/host`)).json()) as Record<string, unknown>;
    expect(after['gpus_in_use']).toEqual(['0000:c1:00.0', '0000:41:00.0']);
  });
});
