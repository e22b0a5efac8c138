import type { HostEnvironment, ProbeResult } from '@cocos-manager/core';

/** The CPU flags of /proc/cpuinfo (the first processor's). */
export async function cpuFlags(host: HostEnvironment): Promise<Set<string> | null> {
  const cpuinfo = await host.readText('/proc/cpuinfo');
  if (cpuinfo === undefined) return null;
  const line = cpuinfo.split('\n').find((l) => /^flags\s*:/.test(l));
  return new Set((line?.split(':')[1] ?? '').trim().split(/\s+/).filter(Boolean));
}

const enabled = (value: string | undefined) => value !== undefined && /^(y|Y|1)$/.test(value.trim());

/**
 * Whether the host can run SEV-SNP guests: the CPU advertises `sev_snp` and
 * kvm_amd was loaded with SNP enabled.
 */
export async function probeSevSnpHost(host: HostEnvironment): Promise<ProbeResult> {
  const flags = await cpuFlags(host);
  if (flags === null) return { available: false, reason: '/proc/cpuinfo is not readable' };
  if (!flags.has('sev_snp'))
    return {
      available: false,
      reason: 'the CPU does not advertise sev_snp in /proc/cpuinfo (not an SEV-SNP capable AMD EPYC, or SNP is disabled in the BIOS)',
    };
  const param = await host.readText('/sys/module/kvm_amd/parameters/sev_snp');
  if (param === undefined) return { available: false, reason: 'the CPU has sev_snp but kvm_amd is not loaded (no /sys/module/kvm_amd/parameters/sev_snp)' };
  if (!enabled(param))
    return { available: false, reason: `kvm_amd has SNP disabled (/sys/module/kvm_amd/parameters/sev_snp = ${param.trim()}); load it with sev_snp=1` };
  return { available: true, reason: 'sev_snp CPU flag and kvm_amd sev_snp=Y' };
}

/** The AMD product line of this host's CPU, from its family/model. */
export async function snpProductLine(host: HostEnvironment): Promise<'Milan' | 'Genoa' | 'Turin' | null> {
  const cpuinfo = await host.readText('/proc/cpuinfo');
  if (!cpuinfo) return null;
  const field = (name: string) => Number(new RegExp(`^${name}\\s*:\\s*(\\d+)`, 'm').exec(cpuinfo)?.[1] ?? NaN);
  const family = field('cpu family');
  const model = field('model');
  if (family === 0x19 && model <= 0x0f) return 'Milan';
  if (family === 0x19 && model >= 0x10 && model <= 0x1f) return 'Genoa';
  if (family === 0x1a) return 'Turin';
  return null;
}
