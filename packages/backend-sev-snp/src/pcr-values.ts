import { readFile } from 'node:fs/promises';
import { ManagerError } from '@cocos-manager/core';

/** Expected vTPM PCR values by bank, as upstream's `pcr_values` section. */
export interface PcrValues {
  readonly sha256: Record<string, string>;
  readonly sha384: Record<string, string>;
}

const HEX_LENGTH = { sha256: 64, sha384: 96 } as const;

/** Reads and checks MANAGER_PCR_VALUES (`{"pcr_values": {"sha256": {...}, "sha384": {...}}}`). */
export async function loadPcrValues(file: string): Promise<PcrValues> {
  const fail = (why: string): never => {
    throw new ManagerError('REFERENCE_VALUES_INVALID', `MANAGER_PCR_VALUES=${JSON.stringify(file)}: ${why}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    return fail(`cannot be read as JSON (${(err as Error).message})`);
  }
  const section = (parsed as { pcr_values?: unknown } | null)?.pcr_values;
  if (typeof section !== 'object' || section === null) return fail('expected an object with a "pcr_values" key');
  const out: { sha256: Record<string, string>; sha384: Record<string, string> } = { sha256: {}, sha384: {} };
  for (const [bank, values] of Object.entries(section)) {
    if (bank !== 'sha256' && bank !== 'sha384') return fail(`unknown PCR bank "${bank}" (expected sha256 or sha384)`);
    if (typeof values !== 'object' || values === null) return fail(`pcr_values.${bank} must be an object of PCR index to hex digest`);
    for (const [index, digest] of Object.entries(values as Record<string, unknown>)) {
      if (!/^(\d|1\d|2[0-3])$/.test(index)) return fail(`pcr_values.${bank} has PCR "${index}"; PCRs are 0 to 23`);
      if (typeof digest !== 'string' || !new RegExp(`^[0-9a-fA-F]{${HEX_LENGTH[bank]}}$`).test(digest)) {
        return fail(`pcr_values.${bank}.${index} must be ${HEX_LENGTH[bank]} hex digits`);
      }
      out[bank][index] = digest.toLowerCase();
    }
  }
  return out;
}
