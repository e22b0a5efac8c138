// The committed sev-snp-measure vectors and the files they were taken on.
// Every comparison first checks the firmware's sha256, so a changed Debian
// ovmf package fails with that message rather than with a wrong digest.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSevTestFirmware, pageFromRuns, testBootFile } from '@cocos-manager/testing';

interface Vector {
  readonly name: string;
  readonly args: readonly string[];
  readonly command: string;
  readonly output: string;
}
interface VectorFile {
  readonly tool: { readonly name: string; readonly commit: string };
  readonly firmware: Record<'debian-ovmf' | 'sev-test-firmware', { readonly sha256: string; readonly debianVersion?: string }>;
  readonly bootFiles: Record<'kernel' | 'initrd', { readonly sha256: string }>;
  readonly vectors: readonly Vector[];
  readonly errors: ReadonlyArray<{ readonly name: string; readonly args: readonly string[]; readonly stderr: string }>;
  readonly kernelHashesTables: Record<'kernel+initrd+cmdline' | 'kernel only', string>;
  readonly vmsas: ReadonlyArray<{
    readonly vcpuType: string;
    readonly guestFeatures: string;
    readonly bsp: Array<[number, string]>;
    readonly ap: Array<[number, string]>;
  }>;
  readonly igvmDefaultZeroRule: { readonly vectors: ReadonlyArray<{ vcpus: number; vcpuType: string; guestFeatures: string; output: string }> };
}

export const VECTORS_FILE = path.join(import.meta.dirname, 'vectors', 'sev-snp-measure.json');
export const reference = JSON.parse(readFileSync(VECTORS_FILE, 'utf8')) as VectorFile;
export const DEBIAN_OVMF = '/usr/share/ovmf/OVMF.fd';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Debian's OVMF.fd, once its sha256 is the one the vectors were taken on. */
export function debianOvmf(): Buffer {
  const data = readFileSync(DEBIAN_OVMF);
  const expected = reference.firmware['debian-ovmf'];
  if (sha256(data) !== expected.sha256) {
    throw new Error(
      `${DEBIAN_OVMF} has sha256 ${sha256(data)}, not the ${expected.sha256} of Debian's ovmf ${expected.debianVersion} the vectors were taken on: the ovmf package changed; regenerate test/vectors/sev-snp-measure.json (see its README)`,
    );
  }
  return data;
}

export interface VectorFiles {
  readonly dir: string;
  /** `{debian-ovmf}` and the other placeholders of the vectors' args, as paths. */
  readonly paths: Record<string, string>;
}

/** Writes the test firmware and boot files and checks every file against its recorded sha256. */
export function vectorFiles(): VectorFiles {
  debianOvmf();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-measure-'));
  const files: Array<[string, Buffer, string]> = [
    ['sev-test-firmware', buildSevTestFirmware(), reference.firmware['sev-test-firmware'].sha256],
    ['kernel', testBootFile('kernel', 200000), reference.bootFiles.kernel.sha256],
    ['initrd', testBootFile('initrd', 70001), reference.bootFiles.initrd.sha256],
  ];
  const paths: Record<string, string> = { '{debian-ovmf}': DEBIAN_OVMF };
  for (const [name, data, expected] of files) {
    if (sha256(data) !== expected)
      throw new Error(`the generated ${name} has sha256 ${sha256(data)}, not the recorded ${expected}: its generator in @cocos-manager/testing changed`);
    const file = path.join(dir, `${name}.bin`);
    writeFileSync(file, data);
    paths[`{${name}}`] = file;
  }
  return { dir, paths };
}

/** A vector's args with the placeholders replaced by paths. */
export const argvOf = (args: readonly string[], files: VectorFiles) => args.map((a) => files.paths[a] ?? a);

/** The flags object of a vector's args (`--vcpu-type X` → { vcpuType: 'X' }). */
export function flagsOf(argv: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) flags[(argv[i] as string).slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = argv[i + 1] as string;
  return flags;
}

/** The reference VMSA pages (BSP, then APs) sev-snp-measure dumped for a vCPU type and features. */
export function referenceVmsas(vcpuType: string, guestFeatures: string, vcpus: number): Buffer[] {
  const entry = reference.vmsas.find((v) => v.vcpuType === vcpuType && v.guestFeatures === guestFeatures);
  if (!entry) throw new Error(`no reference VMSA dump for ${vcpuType} ${guestFeatures}`);
  return Array.from({ length: vcpus }, (_, i) => pageFromRuns(i === 0 ? entry.bsp : entry.ap));
}
