import type { QmpConnection } from '../../api/process-launcher.js';
import type { Logger } from 'pino';
import type { SupervisedProcess } from '../../api/process-launcher.js';

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

/** What the manager has seen of the guest: whether an ACPI power-down can reach anything that acts on it. */
export interface GuestView {
  /** The guest configured its NIC (QMP NIC_RX_FILTER_CHANGED seen): its OS runs. */
  readonly guestAlive: boolean;
  /** Its run state as QMP last reported it; null when not known. */
  readonly guestStatus: string | null;
}

const NOTHING_SEEN: GuestView = { guestAlive: false, guestStatus: null };
/** QMP events after which the guest can no longer act on a power-down (it stopped or panicked). */
const GUEST_HALTED = new Set(['STOP', 'GUEST_PANICKED']);

interface RxFilter {
  readonly promiscuous?: boolean;
  readonly 'multicast-table'?: readonly string[];
}

/**
 * Why an ACPI power-down would not be heard, or null when the guest can act
 * on it. A guest that is not running cannot; one whose OS has not configured
 * its NIC yet has not reached the point where it reacts to the power button
 * (still in firmware or early boot, or a guest that never brings up its
 * network and so cannot be reached anyway). A virtio-net device comes out of
 * reset promiscuous with an empty multicast table; the guest's driver
 * changes that when the interface goes up, and QMP shows it
 * (`query-rx-filter`) — asked here when no NIC_RX_FILTER_CHANGED was seen,
 * as for a VM re-adopted after a manager restart.
 */
export async function whyPowerdownUnheard(qmp: QmpConnection, guest: GuestView): Promise<string | null> {
  if (guest.guestStatus !== null && guest.guestStatus !== 'running') return `the guest is ${guest.guestStatus}`;
  if (guest.guestAlive) return null;
  try {
    const filters = await qmp.execute<RxFilter[]>('query-rx-filter', undefined, 1000);
    const configured = filters.some((f) => f.promiscuous === false || (f['multicast-table']?.length ?? 0) > 0);
    return configured ? null : 'the guest has not configured its NIC yet (still booting)';
  } catch (err) {
    return `QEMU did not say whether the guest configured its NIC (${err instanceof Error ? err.message : String(err)})`;
  }
}

/**
 * ACPI power-down, then waits for QEMU to exit: up to `powerdownMs`, less if
 * QEMU reports the guest stopped or panicked. True if QEMU exited.
 */
async function powerDown(proc: SupervisedProcess, qmp: QmpConnection, powerdownMs: number, logger: Logger): Promise<boolean> {
  let haltedBy: (event: string) => void = () => undefined;
  const halted = new Promise<string>((resolve) => (haltedBy = resolve));
  // One listener per removal, on a connection that closes with QEMU.
  qmp.on('event', (event) => {
    if (GUEST_HALTED.has(event.event)) haltedBy(event.event);
  });
  try {
    await qmp.execute('system_powerdown', undefined, 2000);
  } catch (err) {
    logger.debug({ err }, 'system_powerdown failed; sending SIGTERM');
    return false;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), powerdownMs)));
  const outcome = await Promise.race([proc.exited.then(() => 'exited' as const), halted, timeout]);
  clearTimeout(timer);
  if (outcome === 'exited') return true;
  if (outcome === 'timeout') logger.info({ timeoutMs: powerdownMs }, 'guest did not power off; sending SIGTERM');
  else logger.info({ qmpEvent: outcome }, 'the guest halted during the power-down; sending SIGTERM');
  return false;
}

/**
 * Stops one QEMU: ACPI power-down over QMP first when the guest can act on it
 * (the guest shuts down cleanly), else — or if it does not end in time —
 * SIGTERM, then SIGKILL. Resolves once the process is gone.
 */
export async function stopProcess(
  proc: SupervisedProcess,
  qmp: QmpConnection | null,
  timeouts: StopTimeouts,
  logger: Logger,
  guest: GuestView = NOTHING_SEEN,
): Promise<void> {
  if (timeouts.powerdownMs > 0 && qmp?.connected) {
    const unheard = await whyPowerdownUnheard(qmp, guest);
    if (unheard === null) {
      if (await powerDown(proc, qmp, timeouts.powerdownMs, logger)) return;
    } else {
      logger.info({ why: unheard }, 'no ACPI power-down: the guest cannot act on it; sending SIGTERM');
    }
  }
  await proc.kill('SIGTERM');
  if (await settlesWithin(proc.exited, timeouts.stopMs)) return;
  logger.warn({ timeoutMs: timeouts.stopMs }, 'QEMU ignored SIGTERM; sending SIGKILL');
  await proc.kill('SIGKILL');
  await proc.exited;
}
