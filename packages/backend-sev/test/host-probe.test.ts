import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HostEnvironment } from '@cocos-manager/core';
import { probeSevHost } from '../src/index.js';

/** The committed host trees (test/hosts/README.md says what each is). */
const host = (name: string) => new HostEnvironment(fileURLToPath(new URL(`./hosts/${name}`, import.meta.url)));

describe('the SEV host probe on the host trees of test/hosts', () => {
  it.each([
    ['sev-rome', false, { available: true, reason: 'sev CPU flag, kvm_amd sev=Y and /dev/sev' }],
    ['sev-rome', true, { available: false, reason: `kvm_amd has sev_es disabled (/sys/module/kvm_amd/parameters/sev_es = N); load it with sev_es=1` }],
    ['sev-es-rome', false, { available: true, reason: 'sev CPU flag, kvm_amd sev=Y and /dev/sev' }],
    ['sev-es-rome', true, { available: true, reason: 'sev_es CPU flag, kvm_amd sev=Y sev_es=Y and /dev/sev' }],
    ['snp-only-milan', false, { available: false, reason: 'kvm_amd has sev disabled (/sys/module/kvm_amd/parameters/sev = N); load it with sev=1' }],
    ['snp-only-milan', true, { available: false, reason: 'kvm_amd has sev disabled (/sys/module/kvm_amd/parameters/sev = N); load it with sev=1' }],
    [
      'no-sev',
      false,
      {
        available: false,
        reason: 'the CPU does not advertise sev in /proc/cpuinfo (not an SEV capable AMD EPYC, or SEV is disabled in the BIOS or by the kernel)',
      },
    ],
    [
      'no-sev',
      true,
      {
        available: false,
        reason: 'the CPU does not advertise sev_es in /proc/cpuinfo (not an SEV capable AMD EPYC, or SEV is disabled in the BIOS or by the kernel)',
      },
    ],
  ] as const)('%s, SEV-ES %s', async (name, es, expected) => {
    expect(await probeSevHost(host(name), es)).toEqual(expected);
  });

  it('a host whose kvm_amd is not loaded, or without /dev/sev, says which', async () => {
    // The same trees with a part taken away: HostEnvironment reads below its root, so a missing file is a missing file.
    const root = mkdtempSync(path.join(os.tmpdir(), 'cm-sev-probe-'));
    try {
      cpSync(fileURLToPath(new URL('./hosts/sev-es-rome', import.meta.url)), path.join(root, 'nomod'), { recursive: true });
      rmSync(path.join(root, 'nomod/sys'), { recursive: true });
      expect(await probeSevHost(new HostEnvironment(path.join(root, 'nomod')), false)).toEqual({
        available: false,
        reason: 'the CPU has sev but kvm_amd is not loaded (no /sys/module/kvm_amd/parameters/sev)',
      });
      cpSync(fileURLToPath(new URL('./hosts/sev-es-rome', import.meta.url)), path.join(root, 'nodev'), { recursive: true });
      rmSync(path.join(root, 'nodev/dev/sev'));
      expect(await probeSevHost(new HostEnvironment(path.join(root, 'nodev')), true)).toEqual({
        available: false,
        reason: 'kvm_amd has sev_es on but /dev/sev is missing (the ccp driver is not loaded)',
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
