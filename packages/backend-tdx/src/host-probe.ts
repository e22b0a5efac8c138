import type { HostEnvironment, ProbeResult } from '@cocos-manager/core';

/**
 * Whether the host can run TDX guests: the CPU flag `tdx_host_platform` and
 * kvm_intel loaded with TDX enabled.
 */
export async function probeTdxHost(host: HostEnvironment): Promise<ProbeResult> {
  const cpuinfo = await host.readText('/proc/cpuinfo');
  if (cpuinfo === undefined) return { available: false, reason: '/proc/cpuinfo is not readable' };
  const flags = new Set(
    (
      cpuinfo
        .split('\n')
        .find((l) => /^flags\s*:/.test(l))
        ?.split(':')[1] ?? ''
    )
      .trim()
      .split(/\s+/),
  );
  if (!flags.has('tdx_host_platform'))
    return {
      available: false,
      reason: 'the CPU does not advertise tdx_host_platform in /proc/cpuinfo (no TDX, or it is disabled in the BIOS or by the kernel)',
    };
  const param = await host.readText('/sys/module/kvm_intel/parameters/tdx');
  if (param === undefined)
    return {
      available: false,
      reason: 'the CPU has tdx_host_platform but kvm_intel exposes no tdx parameter (not loaded, or a kernel without TDX host support)',
    };
  if (!/^(y|Y|1)$/.test(param.trim()))
    return { available: false, reason: `kvm_intel has TDX disabled (/sys/module/kvm_intel/parameters/tdx = ${param.trim()}); load it with tdx=1` };
  return { available: true, reason: 'tdx_host_platform CPU flag and kvm_intel tdx=Y' };
}
