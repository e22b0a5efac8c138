import type { QmpConnection } from '../api/process-launcher.js';
import type { Logger } from 'pino';
import type { SupervisedProcess } from './supervised-process.js';

/** Resolves true if `promise` settles within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

export interface StopTimeouts {
  /** How long the guest gets after an ACPI power-down; 0 skips it. */
  readonly powerdownMs: number;
  /** How long QEMU gets after SIGTERM before SIGKILL. */
  readonly stopMs: number;
}

/**
 * Stops one QEMU: ACPI power-down over QMP first (the guest shuts down
 * cleanly), then SIGTERM, then SIGKILL, each step only if the previous one
 * did not end it in time. Resolves once the process is gone.
 */
export async function stopProcess(proc: SupervisedProcess, qmp: QmpConnection | null, timeouts: StopTimeouts, logger: Logger): Promise<void> {
  if (timeouts.powerdownMs > 0 && qmp?.connected) {
    try {
      await qmp.execute('system_powerdown', undefined, 2000);
      if (await settlesWithin(proc.exited, timeouts.powerdownMs)) return;
      logger.info({ timeoutMs: timeouts.powerdownMs }, 'guest did not power off; sending SIGTERM');
    } catch (err) {
      logger.debug({ err }, 'system_powerdown failed; sending SIGTERM');
    }
  }
  await proc.kill('SIGTERM');
  if (await settlesWithin(proc.exited, timeouts.stopMs)) return;
  logger.warn({ timeoutMs: timeouts.stopMs }, 'QEMU ignored SIGTERM; sending SIGKILL');
  await proc.kill('SIGKILL');
  await proc.exited;
}
