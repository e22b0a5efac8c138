import { PAGE_SIZE } from '../firmware/firmware-image.js';

/** Which hypervisor's initial register state the VMSAs describe (sev-snp-measure's --vmm-type). */
export type VmmType = 'QEMU' | 'ec2' | 'gce';
export const VMM_TYPES: readonly VmmType[] = ['QEMU', 'ec2', 'gce'];

/** The BSP starts at the reset vector; the APs at the firmware's SEV-ES AP reset EIP. */
export const BSP_EIP = 0xfffffff0;

export interface VmsaInputs {
  readonly eip: number;
  /** SEV_FEATURES (the guest features; 0 for SEV-ES). */
  readonly sevFeatures: bigint;
  /** CPUID Fn0000_0001_EAX of the guest vCPU, which KVM puts in RDX at reset. */
  readonly vcpuSignature: number;
  readonly vmm: VmmType;
}

/**
 * Byte offsets in the VMSA (AMD APM vol. 2, table B-4 "VMSA layout, state
 * save area for SEV-ES"): segments are selector u16, attrib u16, limit u32,
 * base u64.
 */
const At = {
  es: 0x00,
  cs: 0x10,
  ss: 0x20,
  ds: 0x30,
  fs: 0x40,
  gs: 0x50,
  gdtr: 0x60,
  ldtr: 0x70,
  idtr: 0x80,
  tr: 0x90,
  efer: 0xd0,
  cr4: 0x148,
  cr0: 0x158,
  dr7: 0x160,
  dr6: 0x168,
  rflags: 0x170,
  rip: 0x178,
  gPat: 0x268,
  rdx: 0x310,
  sevFeatures: 0x3b0,
  xcr0: 0x3e8,
  mxcsr: 0x408,
  x87Fcw: 0x410,
} as const;

/** How each hypervisor differs in the initial state it hands the guest (what KVM, Nitro and GCE do). */
function vmmFlavour(vmm: VmmType, eip: number, vcpuSignature: number) {
  switch (vmm) {
    case 'QEMU':
      return { cs: 0x9b, ss: 0x93, tr: 0x8b, rdx: vcpuSignature, mxcsr: 0x1f80, fcw: 0x37f, gPat: 0x0007040600070406n };
    case 'ec2':
      return { cs: eip === BSP_EIP ? 0x9a : 0x9b, ss: 0x92, tr: 0x83, rdx: 0x600, mxcsr: 0, fcw: 0, gPat: 0x0007040600070406n };
    case 'gce':
      return { cs: 0x9b, ss: 0x93, tr: 0x8b, rdx: 0x600, mxcsr: 0, fcw: 0, gPat: 0x00070106n };
  }
}

/** The 4 KiB VMSA page of one vCPU at reset, as the hypervisor gives it to the PSP for measurement. */
export function buildVmsa(inputs: VmsaInputs): Buffer {
  const page = Buffer.alloc(PAGE_SIZE);
  const flavour = vmmFlavour(inputs.vmm, inputs.eip, inputs.vcpuSignature);
  const segment = (at: number, selector: number, attrib: number, limit: number, base: number) => {
    page.writeUInt16LE(selector, at);
    page.writeUInt16LE(attrib, at + 2);
    page.writeUInt32LE(limit, at + 4);
    page.writeBigUInt64LE(BigInt(base), at + 8);
  };
  segment(At.es, 0, 0x93, 0xffff, 0);
  segment(At.cs, 0xf000, flavour.cs, 0xffff, (inputs.eip & 0xffff0000) >>> 0);
  segment(At.ss, 0, flavour.ss, 0xffff, 0);
  segment(At.ds, 0, 0x93, 0xffff, 0);
  segment(At.fs, 0, 0x93, 0xffff, 0);
  segment(At.gs, 0, 0x93, 0xffff, 0);
  segment(At.gdtr, 0, 0, 0xffff, 0);
  segment(At.ldtr, 0, 0x82, 0xffff, 0);
  segment(At.idtr, 0, 0, 0xffff, 0);
  segment(At.tr, 0, flavour.tr, 0xffff, 0);
  const u64 = (at: number, value: bigint | number) => page.writeBigUInt64LE(BigInt(value), at);
  u64(At.efer, 0x1000); // KVM sets EFER.SVME
  u64(At.cr4, 0x40); // KVM sets CR4.MCE
  u64(At.cr0, 0x10);
  u64(At.dr7, 0x400);
  u64(At.dr6, 0xffff0ff0);
  u64(At.rflags, 0x2);
  u64(At.rip, inputs.eip & 0xffff);
  u64(At.gPat, flavour.gPat);
  u64(At.rdx, flavour.rdx >>> 0);
  u64(At.sevFeatures, inputs.sevFeatures);
  u64(At.xcr0, 0x1);
  page.writeUInt32LE(flavour.mxcsr, At.mxcsr);
  page.writeUInt16LE(flavour.fcw, At.x87Fcw);
  return page;
}

/** The VMSA pages of `vcpus` vCPUs: the BSP's first, then one per AP. */
export function vmsaPages(vcpus: number, apEip: number, base: Omit<VmsaInputs, 'eip'>): Buffer[] {
  const bsp = buildVmsa({ ...base, eip: BSP_EIP });
  const ap = vcpus > 1 ? buildVmsa({ ...base, eip: apEip }) : bsp;
  return Array.from({ length: vcpus }, (_, i) => (i === 0 ? bsp : ap));
}
