import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/**
 * A 64 KiB firmware image that switches the vCPU to 32-bit protected mode and
 * writes 1 to I/O port 0xf4 (an `isa-debug-exit` device), so QEMU exits with
 * status (1 << 1) | 1 = 3. Real mode alone is not enough: under broken nested
 * KVM, real-mode code runs but the switch to protected mode hangs — exactly
 * where a Linux boot would hang. The image is mapped below 4 GiB, so offset X
 * is at linear address 0xFFFF0000 + X.
 */
export function buildProbeFirmware(): Buffer {
  const image = Buffer.alloc(0x10000);
  const put = (offset: number, bytes: number[]) => Buffer.from(bytes).copy(image, offset);
  // 0xFF00, 16-bit: cli; o32 lgdt cs:[0xFFC0]; mov eax,cr0; or al,1; mov cr0,eax; o32 jmp 0x08:0xFFFFFF40
  put(0xff00, [0xfa, 0x66, 0x2e, 0x0f, 0x01, 0x16, 0xc0, 0xff, 0x0f, 0x20, 0xc0, 0x0c, 0x01, 0x0f, 0x22, 0xc0, 0x66, 0xea, 0x40, 0xff, 0xff, 0xff, 0x08, 0x00]);
  // 0xFF40, 32-bit: mov ax,0x10; mov ds,ax; mov al,1; out 0xf4,al; hlt
  put(0xff40, [0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd8, 0xb0, 0x01, 0xe6, 0xf4, 0xf4]);
  // 0xFF80: GDT — null, flat 4 GiB code (0x9A), flat 4 GiB data (0x92)
  put(0xff80, [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x92, 0xcf, 0]);
  // 0xFFC0: GDTR — limit 0x17, base 0xFFFFFF80
  put(0xffc0, [0x17, 0x00, 0x80, 0xff, 0xff, 0xff]);
  // 0xFFF0: reset vector — jmp near 0xFF00
  put(0xfff0, [0xe9, 0x0d, 0xff]);
  return image;
}

const PROBE_EXIT_STATUS = 3;

export interface KvmProbeOptions {
  readonly qemuBinary: string;
  readonly useSudo: boolean;
  readonly timeoutMs?: number;
  /** The accelerator to test; `tcg` checks the probe itself on hosts without KVM. */
  readonly accelerator?: 'kvm' | 'tcg';
}

/** Runs the probe firmware under `-accel kvm`; resolves to null when the vCPU works, else why not. */
export async function probeKvm(options: KvmProbeOptions): Promise<string | null> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cocos-kvm-probe-'));
  try {
    const firmware = path.join(dir, 'probe.bin');
    await writeFile(firmware, buildProbeFirmware());
    const qemuArgs = [
      '-accel',
      options.accelerator ?? 'kvm',
      '-machine',
      'q35',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-bios',
      firmware,
      '-device',
      'isa-debug-exit,iobase=0xf4,iosize=0x04',
    ];
    const [file, ...args] = options.useSudo ? ['sudo', '-n', options.qemuBinary, ...qemuArgs] : [options.qemuBinary, ...qemuArgs];
    const timeoutMs = options.timeoutMs ?? 3000;
    const result = await execa(file as string, args, { reject: false, timeout: timeoutMs, stdin: 'ignore', all: true });
    if (result.exitCode === PROBE_EXIT_STATUS) return null;
    if (result.timedOut)
      return `a test vCPU under ${options.accelerator ?? 'kvm'} did not reach protected mode within ${timeoutMs} ms (nested KVM that hangs?)`;
    const output = (result.all ?? '').trim().split('\n').slice(-2).join(' | ');
    return `the KVM test VM failed (${result.failed && result.exitCode === undefined ? result.shortMessage : `exit status ${result.exitCode}`})${output ? `: ${output}` : ''}`;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
