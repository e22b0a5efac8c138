// Numbers of the IGVM format (microsoft/igvm, igvm_defs): header types,
// platforms, page data types and flags. All integers are little-endian.

export const IGVM_MAGIC = 'IGVM';
/** Fixed header: magic, format version, variable header offset and size, total file size, CRC32. */
export const FIXED_HEADER_V1 = 24;
/** Version 2 adds the architecture (u32) and the page size (u32). */
export const FIXED_HEADER_V2 = 32;

export const HeaderType = {
  SupportedPlatform: 0x1,
  GuestPolicy: 0x101,
  RelocatableRegion: 0x102,
  PageTableRelocation: 0x103,
  CorimDocument: 0x104,
  CorimSignature: 0x105,
  CcaPolicy: 0x106,
  ParameterArea: 0x301,
  PageData: 0x302,
  ParameterInsert: 0x303,
  VpContext: 0x304,
  RequiredMemory: 0x305,
  VpCount: 0x307,
  Srat: 0x308,
  Madt: 0x309,
  MmioRanges: 0x30a,
  SnpIdBlock: 0x30b,
  MemoryMap: 0x30c,
  ErrorRange: 0x30d,
  CommandLine: 0x30e,
  Slit: 0x30f,
  Pptt: 0x310,
  VbsMeasurement: 0x311,
  DeviceTree: 0x312,
  EnvironmentInfo: 0x313,
} as const;

/** Header type ranges: platform headers first, then initialization, then directives. */
export const PLATFORM_RANGE = [0x1, 0x100] as const;
export const INIT_RANGE = [0x101, 0x200] as const;
export const DIRECTIVE_RANGE = [0x301, 0x400] as const;

/** Directives that write one runtime parameter into a declared parameter area (IGVM_VHS_PARAMETER). */
export const PARAMETER_USES: ReadonlySet<number> = new Set([
  HeaderType.VpCount,
  HeaderType.Srat,
  HeaderType.Madt,
  HeaderType.MmioRanges,
  HeaderType.MemoryMap,
  HeaderType.CommandLine,
  HeaderType.Slit,
  HeaderType.Pptt,
  HeaderType.DeviceTree,
  HeaderType.EnvironmentInfo,
]);

/** The exact body length of each header type this engine reads. */
export const HEADER_LENGTH: Readonly<Record<number, number>> = {
  [HeaderType.SupportedPlatform]: 16,
  [HeaderType.GuestPolicy]: 16,
  [HeaderType.ParameterArea]: 16,
  [HeaderType.PageData]: 24,
  [HeaderType.ParameterInsert]: 16,
  [HeaderType.VpContext]: 20,
  [HeaderType.RequiredMemory]: 24,
  [HeaderType.ErrorRange]: 16,
  [HeaderType.SnpIdBlock]: 696,
  ...Object.fromEntries([...PARAMETER_USES].map((t) => [t, 8])),
};

export const Platform = { Native: 0, VsmIsolation: 1, SevSnp: 2, Tdx: 3, Sev: 4, SevEs: 5, Cca: 6 } as const;
export const PLATFORM_NAMES: Readonly<Record<number, string>> = {
  0: 'native',
  1: 'VSM isolation',
  2: 'SEV-SNP',
  3: 'TDX',
  4: 'SEV',
  5: 'SEV-ES',
  6: 'CCA',
};

export const PageDataType = { Normal: 0, Secrets: 1, CpuidData: 2, CpuidXf: 3 } as const;
export const PageDataFlag = { Is2MbPage: 0x1, Unmeasured: 0x2, Shared: 0x4 } as const;
export const PAGE_4K = 0x1000;
export const PAGE_2M = 0x20_0000;
