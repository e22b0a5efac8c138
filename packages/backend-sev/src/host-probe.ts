import { access } from 'node:fs/promises';
import path from 'node:path';
import type { HostEnvironment, ProbeResult } from '@cocos-manager/core';

/** The CPU flags of /proc/cpuinfo (the first processor's). */
async function cpuFlags(host: HostEnvironment): Promise<Set<string> | null> {
  const cpuinfo = await host.readText('/proc/cpuinfo');
  if (cpuinfo === undefined) return null;
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l));
  return new Set((line?.split(':')[1] ?? '').trim().split(/\s+/).filter(Boolean));
}

const enabled = (value: string | undefined) => value !== undefined && /^(y|Y|1)$/.test(value.trim());

/**
 * Whether the host can run SEV (or, with `es`, SEV-ES) guests: the CPU flag,
 * kvm_amd loaded with the feature on, and the PSP's /dev/sev, which QEMU
 * opens to launch the guest.
 */
export async function probeSevHost(host: HostEnvironment, es: boolean): Promise<ProbeResult> {
  const flags = await cpuFlags(host);
  if (flags === null) return { available: false, reason: '/proc/cpuinfo is not readable' };
  const feature = es ? 'sev_es' : 'sev';
  if (!flags.has('sev') || (es && !flags.has('sev_es')))
    return {
      available: false,
      reason: `the CPU does not advertise ${feature} in /proc/cpuinfo (not an SEV capable AMD EPYC, or SEV is disabled in the BIOS or by the kernel)`,
    };
  for (const param of es ? ['sev', 'sev_es'] : ['sev']) {
    const file = `/sys/module/kvm_amd/parameters/${param}`;
    const value = await host.readText(file);
    if (value === undefined) return { available: false, reason: `the CPU has ${feature} but kvm_amd is not loaded (no ${file})` };
    if (!enabled(value)) return { available: false, reason: `kvm_amd has ${param} disabled (${file} = ${value.trim()}); load it with ${param}=1` };
  }
  if (!(await present(host, '/dev/sev')))
    return { available: false, reason: `kvm_amd has ${feature} on but /dev/sev is missing (the ccp driver is not loaded)` };
  return { available: true, reason: `${feature} CPU flag, kvm_amd ${es ? 'sev=Y sev_es=Y' : 'sev=Y'} and /dev/sev` };
}

async function present(host: HostEnvironment, absolutePath: string): Promise<boolean> {
  try {
    await access(path.join(host.rootDir, absolutePath));
    return true;
  } catch {
    return false;
  }
}
