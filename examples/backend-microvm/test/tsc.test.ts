import { coreSettings, type HostFiles } from '@cocos-manager/core';
import { loadManagerConfig } from '@cocos-manager/core/internal';
import { describe, expect, it } from 'vitest';
import { hostTscKhz, MicrovmBackend, microvmSettings } from '../src/index.js';

const config = (env: Record<string, string>) =>
  loadManagerConfig(
    [
      { owner: '@cocos-manager/core', slice: coreSettings },
      { owner: 'cocos-manager-backend-microvm', slice: microvmSettings },
    ],
    { MANAGER_QEMU_MACHINE: 'microvm', ...env },
  );

/** A host whose /proc/cpuinfo is the recorded text (two of its CPUs). */
const host = (cpuinfo: string | undefined): HostFiles => ({
  rootDir: '/recorded',
  readText: async (p) => (p === '/proc/cpuinfo' ? cpuinfo : undefined),
});
const recordedCpuinfo = 'processor\t: 0\nmodel name\t: AMD EPYC\ncpu MHz\t\t: 2096.022\n\nprocessor\t: 1\ncpu MHz\t\t: 2096.022\n';

describe('microvm guest TSC rate', () => {
  it('under TCG, gives the guest kernel the host TSC rate so it skips PIT calibration', async () => {
    const backend = new MicrovmBackend(config({ MANAGER_QEMU_ENABLE_KVM: 'false' }));
    await backend.probe(host(recordedCpuinfo));
    expect(backend.kernelParameters()).toEqual(['tsc_early_khz=2096022']);
  });

  it('under KVM, adds nothing (kvmclock gives the rate)', async () => {
    const backend = new MicrovmBackend(config({ MANAGER_QEMU_ENABLE_KVM: 'true' }));
    await backend.probe(host(recordedCpuinfo));
    expect(backend.kernelParameters()).toEqual([]);
  });

  it('reads the first CPU rate, and falls back to 2 GHz when the host names none', () => {
    expect(hostTscKhz('cpu MHz : 3400.5\ncpu MHz : 1200.0\n')).toBe(3_400_500);
    expect(hostTscKhz('processor : 0\n')).toBe(2_000_000);
    expect(hostTscKhz(undefined)).toBe(2_000_000);
  });
});
