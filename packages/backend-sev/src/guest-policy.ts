import { ConfigError } from '@cocos-manager/core';

/** Policy bit 0: debugging the guest is not allowed. */
export const SEV_POLICY_NODBG = 0x1;
/** Policy bit 2: the guest runs with SEV-ES (encrypted register state). */
export const SEV_POLICY_ES = 0x4;
/** QEMU's sev-guest default policy: it is left out of the argv when it is the one in use. */
export const QEMU_DEFAULT_POLICY = SEV_POLICY_NODBG;

/**
 * The guest policy from MANAGER_QEMU_SEV_POLICY (empty: 0x1, or 0x5 with
 * SEV-ES). Bit 2 decides whether the PSP launches an SEV-ES guest, so it must
 * agree with MANAGER_QEMU_ENABLE_SEV_ES, or the measurement and the guest differ.
 */
export function guestPolicy(configured: string, es: boolean): number {
  if (configured === '') return es ? SEV_POLICY_NODBG | SEV_POLICY_ES : SEV_POLICY_NODBG;
  const policy = /^0x[0-9a-f]{1,8}$/i.test(configured) || /^\d{1,10}$/.test(configured) ? Number(configured) : NaN;
  if (!Number.isSafeInteger(policy) || policy > 0xffffffff) {
    throw new ConfigError(
      `MANAGER_QEMU_SEV_POLICY=${JSON.stringify(configured)}: expected a 32-bit SEV guest policy, decimal or 0x hex (such as 0x1 or 0x5), or empty`,
    );
  }
  if (((policy & SEV_POLICY_ES) !== 0) !== es) {
    throw new ConfigError(
      `MANAGER_QEMU_SEV_POLICY=${configured} ${es ? 'lacks' : 'has'} bit 2 (SEV-ES) but MANAGER_QEMU_ENABLE_SEV_ES=${es}: set both for SEV-ES guests, neither for SEV`,
    );
  }
  return policy;
}
