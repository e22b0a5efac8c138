import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, coreSettings, emptyCreateVmRequest, HostEnvironment, QemuCommand, VmContext } from '@cocos-manager/core';
import { loadManagerConfig } from '@cocos-manager/core/internal';
import { probeTdxHost, TdxBackend, tdxSettings } from '../src/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'cm-tdx-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = (env: Record<string, string> = {}) =>
  loadManagerConfig(
    [
      { owner: '@cocos-manager/core', slice: coreSettings },
      { owner: '@cocos-manager/backend-tdx', slice: tdxSettings },
    ],
    env,
  );
const VM = new VmContext('0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', '/run/cm/x', 6100, emptyCreateVmRequest(), 'quiet');
const argsOf = (env: Record<string, string> = {}) => {
  const cmd = new QemuCommand('qemu');
  new TdxBackend(config(env)).contribute(cmd, VM);
  return cmd.args();
};

describe('TDX QEMU arguments (the argv of the Go manager: apps/manager/test/golden-argv.ts)', () => {
  it('default configuration', () => {
    expect(argsOf()).toEqual([
      '-object',
      `{"qom-type":"tdx-guest","id":"tdx0-${VM.id}","quote-generation-socket":{"type":"vsock","cid":"2","port":"4050"}}`,
      '-machine',
      `confidential-guest-support=tdx0-${VM.id},memory-backend=ram1,hpet=off`,
      '-object',
      'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false',
      '-bios',
      '/usr/share/ovmf/OVMF.fd',
      '-nodefaults',
    ]);
  });

  it('overridden configuration', () => {
    expect(
      argsOf({
        MANAGER_QEMU_TDX_ID: 'td',
        MANAGER_QEMU_QUOTE_GENERATION_PORT: '4999',
        MANAGER_QEMU_MEM_ID: 'mem0',
        MANAGER_QEMU_MEMORY_SIZE: '16G',
        MANAGER_QEMU_OVMF_FILE: '/fw/OVMF.tdx.fd',
      }),
    ).toEqual([
      '-object',
      `{"qom-type":"tdx-guest","id":"td-${VM.id}","quote-generation-socket":{"type":"vsock","cid":"2","port":"4999"}}`,
      '-machine',
      `confidential-guest-support=td-${VM.id},memory-backend=mem0,hpet=off`,
      '-object',
      'memory-backend-memfd,id=mem0,size=16G,share=true,prealloc=false',
      '-bios',
      '/fw/OVMF.tdx.fd',
      '-nodefaults',
    ]);
  });
});

describe('TDX host probe on recorded /proc and /sys', () => {
  const host = (name: string, flags: string, param?: string) => {
    mkdirSync(path.join(root, name, 'proc'), { recursive: true });
    writeFileSync(path.join(root, name, 'proc/cpuinfo'), `processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu ${flags} vmx\n`);
    if (param !== undefined) {
      mkdirSync(path.join(root, name, 'sys/module/kvm_intel/parameters'), { recursive: true });
      writeFileSync(path.join(root, name, 'sys/module/kvm_intel/parameters/tdx'), `${param}\n`);
    }
    return new HostEnvironment(path.join(root, name));
  };
  it('present', async () =>
    expect(await probeTdxHost(host('yes', 'tdx_host_platform', 'Y'))).toEqual({ available: true, reason: 'tdx_host_platform CPU flag and kvm_intel tdx=Y' }));
  it('absent', async () =>
    expect(await probeTdxHost(host('no', 'sme', 'Y'))).toMatchObject({
      available: false,
      reason: expect.stringContaining('does not advertise tdx_host_platform'),
    }));
  it('flag without the module parameter', async () =>
    expect(await probeTdxHost(host('nomod', 'tdx_host_platform'))).toMatchObject({ available: false, reason: expect.stringContaining('no tdx parameter') }));
  it('module with TDX disabled', async () =>
    expect(await probeTdxHost(host('off', 'tdx_host_platform', 'N'))).toMatchObject({ available: false, reason: expect.stringContaining('tdx = N') }));
  it('needs KVM', async () => {
    expect(await new TdxBackend(config({ MANAGER_QEMU_ENABLE_KVM: 'false' })).probe(host('yes2', 'tdx_host_platform', 'Y'))).toEqual({
      available: false,
      reason: 'TDX guests need KVM, but MANAGER_QEMU_ENABLE_KVM=false',
    });
  });
});

describe('TDX selection', () => {
  it.each([
    ['', null],
    ['true', true],
    ['false', false],
  ] as const)('MANAGER_QEMU_ENABLE_TDX=%j: switch %j, probed above SEV-SNP', (value, expected) => {
    expect(new TdxBackend(config({ MANAGER_QEMU_ENABLE_TDX: value })).selection).toEqual({
      priority: 200,
      detect: 'probe',
      switch: { env: 'MANAGER_QEMU_ENABLE_TDX', value: expected },
    });
  });

  it("declares its switch in its own slice, with the Go manager's name and default", () => {
    expect(tdxSettings.tdx.enable).toMatchObject({ env: 'MANAGER_QEMU_ENABLE_TDX', default: '' });
    expect(() => config({ MANAGER_QEMU_ENABLE_TDX: 'maybe' })).toThrow(/^MANAGER_QEMU_ENABLE_TDX="maybe": expected /);
  });
});

describe('TDX attestation policy', () => {
  const hex = (byte: string, n: number) => byte.repeat(n);
  const full = {
    MANAGER_MRSEAM: hex('01', 48),
    MANAGER_TD_ATTRIBUTES: '0x' + hex('02', 8),
    MANAGER_XFAM: hex('03', 8),
    MANAGER_MRTD: hex('04', 48),
    MANAGER_RTMR0: hex('10', 48),
    MANAGER_RTMR1: hex('11', 48),
    MANAGER_RTMR2: hex('12', 48),
    MANAGER_RTMR3: hex('13', 48),
  };

  it('puts every configured value, base64, in policy.tdQuoteBodyPolicy', async () => {
    const doc = await new TdxBackend(config(full)).attestationPolicy();
    const body = (doc.json as { policy: { tdQuoteBodyPolicy: Record<string, unknown> } }).policy.tdQuoteBodyPolicy;
    const hexOf = (b64: unknown) => Buffer.from(b64 as string, 'base64').toString('hex');
    expect(hexOf(body['mrSeam'])).toBe(full.MANAGER_MRSEAM);
    expect(hexOf(body['tdAttributes'])).toBe(hex('02', 8));
    expect(hexOf(body['xfam'])).toBe(full.MANAGER_XFAM);
    expect(hexOf(body['mrTd'])).toBe(full.MANAGER_MRTD);
    expect((body['rtmrs'] as string[]).map(hexOf)).toEqual([full.MANAGER_RTMR0, full.MANAGER_RTMR1, full.MANAGER_RTMR2, full.MANAGER_RTMR3]);
    expect(doc.json).toHaveProperty('rootOfTrust');
    expect(doc.measurements.map((m) => m.name)).toEqual(['mrseam', 'mrtd', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3']);
    // The CoRIM environment core writes: the backend's, not core's, knowledge.
    expect(doc).toMatchObject({ tee: 'tdx', environment: { vendor: 'Intel', model: 'TDX' } });
  });

  it('leaves out what is not configured', async () => {
    const doc = await new TdxBackend(config({ MANAGER_MRTD: hex('04', 48) })).attestationPolicy();
    expect(Object.keys((doc.json as { policy: { tdQuoteBodyPolicy: object } }).policy.tdQuoteBodyPolicy)).toEqual(['mrTd']);
  });

  it.each([
    ['MANAGER_MRSEAM', hex('01', 47), /MANAGER_MRSEAM=.*: expected MRSEAM \(TDX module measurement\): 96 hex digits \(48 bytes\), or empty/],
    ['MANAGER_MRTD', 'xyz', /MANAGER_MRTD="xyz"/],
    ['MANAGER_TD_ATTRIBUTES', hex('02', 9), /MANAGER_TD_ATTRIBUTES=.*16 hex digits \(8 bytes\)/],
    ['MANAGER_XFAM', '12', /MANAGER_XFAM="12"/],
    ['MANAGER_RTMR2', hex('ab', 32), /MANAGER_RTMR2=/],
  ])('%s with a wrong length or not hex stops start-up', (env, value, message) => {
    expect(() => config({ [env]: value })).toThrow(message);
  });

  it('takes all four RTMRs or none', async () => {
    const err = await new TdxBackend(config({ MANAGER_RTMR0: hex('10', 48), MANAGER_RTMR2: hex('12', 48) })).attestationPolicy().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe('MANAGER_RTMR1, MANAGER_RTMR3 not set: the TDX policy takes all four RTMRs or none');
  });
});
