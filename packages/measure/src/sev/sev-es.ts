import { MeasureErrorCode } from '../errors.js';
import type { FirmwareImage } from '../firmware/firmware-image.js';
import { vmsaPages, type VmmType } from '../snp/vmsa.js';
import { kernelHashesTable, type KernelHashes } from './kernel-hashes.js';
import { sevEsResetEip, sevHashTable } from './sev-metadata.js';
import { nodeCrypto } from '@cocos-manager/core';

const { createHash } = nodeCrypto;

/** What an SEV or SEV-ES launch digest covers beyond the firmware. */
export interface SevInputs {
  readonly kernelHashes: KernelHashes | null;
}

export interface SevEsInputs extends SevInputs {
  readonly vcpus: number;
  readonly vcpuSignature: number;
  readonly vmm: VmmType;
}

function firmwareAndHashes(image: FirmwareImage, inputs: SevInputs) {
  const hash = createHash('sha256').update(image.data);
  if (inputs.kernelHashes) {
    if (sevHashTable(image) === null) {
      throw image.error(
        MeasureErrorCode.NoKernelHashes,
        'a kernel is given, but this OVMF has no SEV hash table block (or a zero one): it cannot verify a direct kernel boot (use an AmdSev build of OVMF)',
      );
    }
    hash.update(kernelHashesTable(inputs.kernelHashes));
  }
  return hash;
}

/** The SEV launch digest: SHA-256 of the firmware, then of the kernel-hashes table when booting a kernel. */
export function measureSev(image: FirmwareImage, inputs: SevInputs): Buffer {
  return firmwareAndHashes(image, inputs).digest();
}

/** The SEV-ES launch digest: as SEV, then each vCPU's VMSA (no SEV features: SEV-ES has none). */
export function measureSevEs(image: FirmwareImage, inputs: SevEsInputs): Buffer {
  const apEip = sevEsResetEip(image);
  if (inputs.vcpus > 1 && apEip === 0) {
    throw image.error(MeasureErrorCode.NoResetBlock, `the SEV-ES AP reset EIP is 0, so ${inputs.vcpus} vCPUs cannot start`);
  }
  const hash = firmwareAndHashes(image, inputs);
  for (const page of vmsaPages(inputs.vcpus, apEip, { sevFeatures: 0n, vcpuSignature: inputs.vcpuSignature, vmm: inputs.vmm })) hash.update(page);
  return hash.digest();
}
