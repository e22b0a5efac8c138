import { mkdtemp, readFile, rm, stat, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { coreSettings, emptyCreateVmRequest, ErrorCode, HostEnvironment, ManagerError, QemuCommand, VmContext } from '@cocos-manager/core';
import { loadManagerConfig } from '@cocos-manager/core/internal';
import { buildProbeFirmware, PlainBackend, plainSettings, probeKvm } from '../src/index.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const config = (env: Record<string, string> = {}) =>
  loadManagerConfig(
    [
      { owner: '@cocos-manager/core', slice: coreSettings },
      { owner: '@cocos-manager/backend-plain', slice: plainSettings },
    ],
    env,
  );

async function vm(): Promise<VmContext> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cm-plain-'));
  dirs.push(dir);
  return new VmContext('vm-1', dir, 6100, emptyCreateVmRequest(), 'quiet');
}

describe('plain backend', () => {
  it('is the fallback of auto-detection: lowest priority of the backends we ship, taken without probing, no switch', () => {
    expect(new PlainBackend(config()).selection).toEqual({ priority: 0, detect: 'fallback' });
  });

  it('adds the OVMF code and the per-VM vars as pflash drives (the argv of the Go manager: apps/manager/test/golden-argv.ts)', async () => {
    const ctx = await vm();
    const cmd = new QemuCommand('qemu');
    new PlainBackend(config()).contribute(cmd, ctx);
    expect(cmd.args()).toEqual([
      '-drive',
      'if=pflash,format=raw,unit=0,file=/usr/share/OVMF/OVMF_CODE.fd,readonly=on',
      '-drive',
      `if=pflash,format=raw,unit=1,file=${ctx.dir}/OVMF_VARS.fd`,
    ]);
  });

  it('honours the OVMF variables', async () => {
    const ctx = await vm();
    const cmd = new QemuCommand('qemu');
    new PlainBackend(
      config({
        MANAGER_QEMU_OVMF_CODE_FILE: '/fw/code.fd',
        MANAGER_QEMU_OVMF_CODE_UNIT: '2',
        MANAGER_QEMU_OVMF_CODE_READONLY: 'off',
        MANAGER_QEMU_OVMF_VARS_FORMAT: 'qcow2',
        MANAGER_QEMU_OVMF_VARS_UNIT: '3',
      }),
    ).contribute(cmd, ctx);
    expect(cmd.args()).toEqual([
      '-drive',
      'if=pflash,format=raw,unit=2,file=/fw/code.fd,readonly=off',
      '-drive',
      `if=pflash,format=qcow2,unit=3,file=${ctx.dir}/OVMF_VARS.fd`,
    ]);
  });

  it('gives each VM its own 0600 copy of the vars template', async () => {
    const ctx = await vm();
    await new PlainBackend(config()).prepare(ctx);
    const copy = path.join(ctx.dir, 'OVMF_VARS.fd');
    expect((await stat(copy)).mode & 0o777).toBe(0o600);
    expect(Buffer.compare(await readFile(copy), await readFile('/usr/share/OVMF/OVMF_VARS.fd'))).toBe(0);
  });

  it('refuses unreadable firmware at start with the variable named', async () => {
    await expect(new PlainBackend(config({ MANAGER_QEMU_OVMF_VARS_FILE: '/nope/VARS.fd' })).validate()).rejects.toThrow(
      'MANAGER_QEMU_OVMF_VARS_FILE="/nope/VARS.fd": expected a readable file',
    );
    await expect(new PlainBackend(config()).validate()).resolves.toBeUndefined();
  });

  it('has no attestation policy', async () => {
    const err = await new PlainBackend(config()).attestationPolicy().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as ManagerError).code).toBe(ErrorCode.FailedPrecondition);
    expect((err as Error).message).toMatch(/plain VMs carry no attestation/);
  });

  it('probe: available under TCG when KVM is off, with the QEMU version', async () => {
    const result = await new PlainBackend(config({ MANAGER_QEMU_ENABLE_KVM: 'false' })).probe(new HostEnvironment('/'));
    expect(result.available).toBe(true);
    expect(result.reason).toMatch(/QEMU emulator version .*TCG/);
  });

  it('probe: a missing QEMU binary is unavailable, naming the variable', async () => {
    const result = await new PlainBackend(config({ MANAGER_QEMU_BIN_PATH: '/nope/qemu', MANAGER_QEMU_ENABLE_KVM: 'false' })).probe(new HostEnvironment('/'));
    expect(result).toMatchObject({ available: false });
    expect(result.reason).toMatch(/^MANAGER_QEMU_BIN_PATH="\/nope\/qemu" does not run/);
  });

  it('probe: KVM requested on a host without /dev/kvm is unavailable', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cm-host-'));
    dirs.push(root);
    await mkdir(path.join(root, 'proc'));
    await import('node:fs/promises').then((fs) => fs.writeFile(path.join(root, 'proc/cpuinfo'), 'flags: fpu\n'));
    const result = await new PlainBackend(config({ MANAGER_QEMU_ENABLE_KVM: 'true' })).probe(new HostEnvironment(root));
    expect(result.available).toBe(false);
    expect(result.reason).toMatch(/\/dev\/kvm is missing/);
  });
});

describe('KVM probe firmware', () => {
  it('is a 64 KiB image with a jump at the reset vector', () => {
    const image = buildProbeFirmware();
    expect(image.length).toBe(0x10000);
    expect([...image.subarray(0xfff0, 0xfff3)]).toEqual([0xe9, 0x0d, 0xff]);
  });

  it('really reaches protected mode and exits QEMU (checked under TCG)', async () => {
    expect(await probeKvm({ qemuBinary: 'qemu-system-x86_64', useSudo: false, accelerator: 'tcg', timeoutMs: 20_000 })).toBeNull();
  });

  it('reports a QEMU that cannot start', async () => {
    expect(await probeKvm({ qemuBinary: '/nope/qemu', useSudo: false, accelerator: 'tcg' })).toMatch(/the KVM test VM failed/);
  });
});
