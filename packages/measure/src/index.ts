// @cocos-manager/measure: launch measurements computed from the files a VM
// launches. The engine (everything but plugin.ts) is plain TypeScript on
// node:crypto and imports nothing of the manager.
export { MeasureError, MeasureErrorCode } from './errors.js';
export { measureLaunch, checkMeasureOptions, MEASURE_MODES, MAX_VCPUS, type MeasureMode, type MeasureOptions, type MeasureResult } from './measure.js';
export { FirmwareImage, PAGE_SIZE } from './firmware/firmware-image.js';
export { guidToBytes, bytesToGuid, OvmfGuid } from './firmware/guid.js';
export { sevMetadata, sevEsResetEip, sevHashTable, SevSectionType, type SevSection } from './sev/sev-metadata.js';
export { kernelHashesTable, kernelHashesPage, cmdlineDigest, KERNEL_HASHES_TABLE_LENGTH, type KernelHashes } from './sev/kernel-hashes.js';
export { measureSev, measureSevEs, type SevInputs, type SevEsInputs } from './sev/sev-es.js';
export { PageInfoChain, SnpPageType, VMSA_GPA } from './snp/page-info-chain.js';
export { buildVmsa, vmsaPages, BSP_EIP, VMM_TYPES, type VmmType, type VmsaInputs } from './snp/vmsa.js';
export { cpuSignature, vcpuSignatureOf, VCPU_TYPES, type VcpuChoice } from './snp/vcpu-types.js';
export { measureSnpOvmf, type SnpOvmfInputs } from './snp/ovmf-snp.js';
export { parseIgvm, type IgvmFile, type IgvmHeader, type IgvmPlatformHeader } from './igvm/igvm-parse.js';
export { measureSnpIgvm, type IgvmMeasureOptions, type IgvmMeasurement } from './igvm/igvm-measure.js';
export { tdvfMetadata, TdvfAttribute, type TdvfSection } from './tdx/tdvf-metadata.js';
export { measureTdxMrtd, type TdxPageAddOrder } from './tdx/mrtd.js';
export { kernelHashesOf, sha256OfFile } from './inputs.js';
export { measureOptionsFromFlags, formatDigest, type MeasureFlags, type OutputFormat } from './flags.js';
export { measurePlugin, PLUGIN_VERSION } from './plugin/plugin.js';
export { NativeLaunchMeasurer } from './plugin/native-measurer.js';
export { OnDemandMeasurer } from './plugin/on-demand-measurer.js';
export { MeasurementCache } from './plugin/measurement-cache.js';
export { measurePlugin as default } from './plugin/plugin.js';
export { parseSnpReport, signingKeyOf, SNP_REPORT_BYTES, SIGNED_BYTES, type SnpReport } from './report/snp-report.js';
export { checkReport, expectationsFromPolicy, policyDifferences, type ReportMismatch, type SnpReportExpectations } from './report/report-checks.js';
export { checkSignature, checkChain, readCertificates } from './report/report-signature.js';
export { tcbParts, tcbShortfalls, type SnpProduct, type TcbParts } from './report/tcb.js';
export { verifySnpReport, type ReportFiles, type ReportVerification } from './report/verify-report.js';
