import { hex, MeasureErrorCode } from '../errors.js';
import { PAGE_SIZE, type FirmwareImage } from '../firmware/firmware-image.js';
import { KERNEL_HASHES_PADDED_LENGTH, kernelHashesPage, type KernelHashes } from '../sev/kernel-hashes.js';
import { sevEsResetEip, sevHashTable, sevMetadata, SevSectionType, type SevSection } from '../sev/sev-metadata.js';
import { PageInfoChain, SnpPageType } from './page-info-chain.js';
import { vmsaPages, type VmmType } from './vmsa.js';

export interface SnpOvmfInputs {
  readonly vcpus: number;
  readonly vcpuSignature: number;
  readonly guestFeatures: bigint;
  readonly vmm: VmmType;
  /** Direct kernel boot (`-kernel`, with kernel-hashes=on): the digests QEMU puts in the hash table. */
  readonly kernelHashes: KernelHashes | null;
}

/**
 * The SEV-SNP launch digest of a QEMU guest booting this OVMF, as
 * virtee/sev-snp-measure computes it: the whole image as normal pages ending
 * at 4 GiB, then each SEV metadata section by type, then one VMSA per vCPU.
 */
export function measureSnpOvmf(image: FirmwareImage, inputs: SnpOvmfInputs): Buffer {
  image.requirePages();
  const sections = sevMetadata(image);
  const apEip = sevEsResetEip(image);
  const chain = new PageInfoChain();
  chain.addNormal(image.gpa, image.data);
  for (const section of sections) measureSection(chain, image, section, inputs);
  // EC2 measures the CPUID page after all the other metadata pages.
  if (inputs.vmm === 'ec2') for (const s of sections) if (s.type === SevSectionType.Cpuid) chain.addEmpty(SnpPageType.Cpuid, s.gpa);
  if (inputs.kernelHashes && !sections.some((s) => s.type === SevSectionType.KernelHashes)) {
    throw image.error(
      MeasureErrorCode.NoKernelHashes,
      'a kernel is given, but the SEV metadata has no KERNEL_HASHES section: this OVMF cannot verify a direct kernel boot (use an AmdSev build of OVMF)',
    );
  }
  if (inputs.vcpus > 1 && apEip === 0) {
    throw image.error(MeasureErrorCode.NoResetBlock, `the SEV-ES AP reset EIP is 0, so ${inputs.vcpus} vCPUs cannot start`);
  }
  for (const page of vmsaPages(inputs.vcpus, apEip, { sevFeatures: inputs.guestFeatures, vcpuSignature: inputs.vcpuSignature, vmm: inputs.vmm })) {
    chain.addVmsa(page);
  }
  return chain.digest();
}

function measureSection(chain: PageInfoChain, image: FirmwareImage, section: SevSection, inputs: SnpOvmfInputs): void {
  switch (section.type) {
    case SevSectionType.SecMem:
      // GCE leaves the SEC memory unmeasured; QEMU and EC2 pre-validate it as zero pages.
      chain.addEmpty(inputs.vmm === 'gce' ? SnpPageType.Unmeasured : SnpPageType.Zero, section.gpa, section.size);
      return;
    case SevSectionType.Secrets:
      chain.addEmpty(SnpPageType.Secrets, section.gpa);
      return;
    case SevSectionType.Cpuid:
      if (inputs.vmm !== 'ec2') chain.addEmpty(SnpPageType.Cpuid, section.gpa);
      return;
    case SevSectionType.SvsmCaa:
      chain.addEmpty(SnpPageType.Zero, section.gpa, section.size);
      return;
    case SevSectionType.KernelHashes:
      if (!inputs.kernelHashes) {
        chain.addEmpty(SnpPageType.Zero, section.gpa, section.size);
        return;
      }
      chain.addNormal(section.gpa, kernelHashesSectionPage(image, section, inputs.kernelHashes));
  }
}

/** The KERNEL_HASHES page: one page, the hash table at the offset the SEV hash table block gives. */
function kernelHashesSectionPage(image: FirmwareImage, section: SevSection, hashes: KernelHashes): Buffer {
  if (section.size !== PAGE_SIZE) {
    throw image.error(MeasureErrorCode.BadSevMetadata, `the KERNEL_HASHES section is ${hex(section.size)} bytes, expected one 4 KiB page`);
  }
  const table = sevHashTable(image);
  if (table === null) {
    throw image.error(
      MeasureErrorCode.NoKernelHashes,
      'a kernel is given and there is a KERNEL_HASHES section, but no SEV hash table block says where the table goes',
    );
  }
  const offset = table.gpa % PAGE_SIZE;
  if (offset + KERNEL_HASHES_PADDED_LENGTH > PAGE_SIZE) {
    throw image.error(MeasureErrorCode.BadSevMetadata, `the SEV hash table at ${hex(table.gpa)} does not fit in its page`);
  }
  return kernelHashesPage(hashes, offset);
}
