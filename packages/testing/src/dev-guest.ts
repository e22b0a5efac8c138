import { existsSync } from 'node:fs';
import path from 'node:path';

/** The dev guest's files, as `tools/dev-guest/build.sh` writes them into `<repo>/build/dev-guest`. */
export interface DevGuest {
  readonly kernel: string;
  readonly initramfs: string;
  readonly disk: string;
}

export function devGuest(buildDir: string): DevGuest {
  const guest = { kernel: path.join(buildDir, 'bzImage'), initramfs: path.join(buildDir, 'rootfs.cpio.gz'), disk: path.join(buildDir, 'disk.qcow2') };
  for (const file of Object.values(guest)) {
    if (!existsSync(file)) throw new Error(`dev guest file ${file} is missing: build it with tools/dev-guest/build.sh`);
  }
  return guest;
}

/**
 * Configuration that boots the dev guest (about 10 s under TCG, no KVM
 * needed): RAM boot of its kernel and initramfs, small VMs. The kernel command
 * line stays the manager's default (`quiet console=null`, as the real HAL
 * boots): the guest's /init writes its own lines to the first serial port.
 * Its /init answers HTTP on port 7002 with the VM id, the hash of cert.pem and
 * the keys of its environment file.
 */
export function devGuestEnv(guest: DevGuest): Record<string, string> {
  return {
    MANAGER_QEMU_ENABLE_KVM: 'false',
    MANAGER_QEMU_DISK_IMG_KERNEL_FILE: guest.kernel,
    MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: guest.initramfs,
    MANAGER_QEMU_SMP_COUNT: '1',
    MANAGER_QEMU_MEMORY_SIZE: '512M',
  };
}

/** Polls the dev guest's agent port until it answers; returns its KEY=VALUE answer. */
export async function waitForDevGuest(port: number, timeoutMs = 120_000): Promise<Record<string, string>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
      const body = await res.text();
      if (res.ok && body.includes('AGENT_CVM_ID=')) {
        return Object.fromEntries(
          body
            .trim()
            .split('\n')
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        );
      }
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`the dev guest on port ${port} did not answer within ${timeoutMs} ms`);
}
