import { realpath } from 'node:fs/promises';
import { execa } from 'execa';

/** What CVMInfo reports when neither the operator (MANAGER_QEMU_OVMF_VERSION) nor the backend can tell: the Go manager's default. */
export const DEFAULT_OVMF_VERSION = 'edk2-stable202408';

/** EDK II's release tags are `edk2-stableYYYYMM`; distributions version their builds `YYYY.MM[-…]`. */
export function edk2TagOf(packageVersion: string): string | null {
  const match = /^(?:\d+:)?(\d{4})\.(\d{2})(?:[.~+-]|$)/.exec(packageVersion.trim());
  return match ? `edk2-stable${match[1]}${match[2]}` : null;
}

/**
 * The EDK II release a firmware file was built from, where the host can say:
 * the version of the Debian package that installed it (`ovmf 2022.11-6` →
 * `edk2-stable202211`). Null for a file no package owns (a self-built OVMF,
 * an IGVM file) or a host without dpkg — the caller falls back to its
 * configured value. Read once, at start-up (a backend's `validate`).
 */
export async function firmwareVersionOf(file: string): Promise<string | null> {
  let path: string;
  try {
    path = await realpath(file);
  } catch {
    return null;
  }
  const owner = await execa('dpkg-query', ['-S', path], { reject: false, stdin: 'ignore' });
  // "ovmf: /usr/share/OVMF/OVMF_CODE.fd" (one line per owning package).
  const name = owner.exitCode === 0 ? /^([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9]+)?: /.exec(String(owner.stdout))?.[1] : undefined;
  if (!name) return null;
  const version = await execa('dpkg-query', ['-W', '-f', '${Version}', name], { reject: false, stdin: 'ignore' });
  return version.exitCode === 0 ? edk2TagOf(String(version.stdout)) : null;
}
