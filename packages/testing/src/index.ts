export { describeTeeBackendConformance, teeBackendConformanceCases, type TeeBackendConformanceOptions } from './tee-backend-conformance.js';
export { createInertBackendPlugin, inertBackendPlugin } from './inert-backend.js';
export { makeTestPki, type TestPki } from './test-pki.js';
export { startTestManager, type TestManager, type TestManagerOptions } from './test-manager.js';
export { PLACEHOLDER_FILE } from './placeholder-file.js';
export { devGuest, devGuestEnv, waitForDevGuest, type DevGuest } from './dev-guest.js';
export { FakeLauncher } from './fake-launcher.js';
export { FakeQemu, FakeQmp, type FakeQemuScript } from './fake-qemu.js';
export {
  buildSevTestFirmware,
  guidBytes,
  testBootFile,
  SevSection,
  SEV_TEST_SECTIONS,
  type SevTestFirmwareOptions,
  type SevTestSection,
} from './sev-test-firmware.js';
export {
  writeIgvm,
  crc32Ieee,
  IgvmType,
  IgvmPlatformType,
  IgvmPageType,
  IgvmPageFlag,
  type IgvmSpec,
  type IgvmDirectiveSpec,
  type IgvmPlatformSpec,
} from './igvm-writer.js';
export { igvmFromOvmf, ovmfLaunchDirectives, ovmfSevSections, pageFromRuns, KVM_VMSA_GPA, type IgvmFromOvmfOptions } from './igvm-from-ovmf.js';
export { mrtdReference, tdvfSectionsReference, type TdvfSectionReference } from './tdx-mrtd-reference.js';
export { buildSnpReport, signSnpReport, milanTcb, makeTestAmdChain, type SnpReportFields, type TestAmdChain } from './snp-report-builder.js';
export { FaultyStateFiles, errnoError, type StateFileCall } from './faulty-state-files.js';
export { bootStrategyConformanceCases, describeBootStrategyConformance, type BootStrategyConformanceOptions } from './boot-strategy-conformance.js';
export { BOOT_SECTIONS } from './boot-conformance-command.js';
export { conformanceCase, describeConformance, type ConformanceCase } from './conformance-case.js';
export { snapshotTree, diffSnapshots, isInside, type FsSnapshot, type FsDiff } from './fs-snapshot.js';
export { CmStub, CM_STUB_CHUNK_BYTES, type CmStubOptions, type CmStubReceived } from './cm-stub.js';
export { readRunFile, runRequestFromJson } from './cm-run-file.js';
