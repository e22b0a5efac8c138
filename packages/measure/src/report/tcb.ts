/** AMD product lines, whose TCB_VERSION layouts differ (Turin adds the FMC SPL). */
export type SnpProduct = 'Milan' | 'Genoa' | 'Turin';

/** A TCB version's security patch levels by component. */
export type TcbParts = Readonly<Record<string, number>>;

/** Byte positions of each component in the 64-bit TCB_VERSION (SEV-SNP ABI, "TCB_VERSION structure"). */
const LAYOUT: Record<SnpProduct, Record<string, number>> = {
  Milan: { bootloader: 0, tee: 1, snp: 6, microcode: 7 },
  Genoa: { bootloader: 0, tee: 1, snp: 6, microcode: 7 },
  Turin: { fmc: 0, bootloader: 1, tee: 2, snp: 3, microcode: 7 },
};

export function tcbParts(value: bigint, product: SnpProduct): TcbParts {
  return Object.fromEntries(Object.entries(LAYOUT[product]).map(([name, byte]) => [name, Number((value >> BigInt(byte * 8)) & 0xffn)]));
}

export const formatTcb = (parts: TcbParts) =>
  Object.entries(parts)
    .map(([name, level]) => `${name} ${level}`)
    .join(', ');

/** The components of `actual` below `minimum`, as "snp 3 < 5". */
export function tcbShortfalls(actual: bigint, minimum: bigint, product: SnpProduct): string[] {
  const a = tcbParts(actual, product);
  const m = tcbParts(minimum, product);
  return Object.keys(m)
    .filter((name) => (a[name] as number) < (m[name] as number))
    .map((name) => `${name} ${a[name]} < ${m[name]}`);
}
