import type { Logger } from 'pino';
import type { PortPool } from '../../internal-tokens.js';
import type { LaunchPlan } from './launch-plan.js';
import { removeVmFiles } from '../state/vm-files.js';
import { ManagerError } from '../../errors.js';

/** What a VM holds on the host, in the order the teardown gives it back (the reverse of a create's). */
export const TEARDOWN_STEPS = ['devices', 'boot', 'backend', 'files', 'port'] as const;
export type TeardownStep = (typeof TEARDOWN_STEPS)[number];

export interface TeardownReport {
  /** The steps that ran and succeeded, and those that failed (each logged with its error). */
  readonly done: readonly TeardownStep[];
  readonly failed: readonly TeardownStep[];
}

/**
 * The one teardown of a VM — its devices, boot media (a per-VM disk), the
 * backend's per-VM files, its directory and 9p shares, its host port —
 * used by every path that ends a VM: a rolled-back create, QEMU's exit, a
 * removal, and recovery of a VM that died while no manager ran. It gives
 * back what the VM `hold`s, each step on its own (one failing does not skip
 * the others; each failure is logged), and runs once however many paths ask:
 * a port is never released twice (by then it may be another VM's).
 */
export class VmTeardown {
  private readonly held = new Set<TeardownStep>();
  private running: Promise<TeardownReport> | null = null;

  constructor(
    private readonly plan: LaunchPlan,
    private readonly ports: Pick<PortPool, 'release'>,
    private readonly logger: Logger,
  ) {}

  /** The VM now holds these (the create acquired them; recovery found them). */
  hold(...steps: TeardownStep[]): void {
    for (const step of steps) this.held.add(step);
  }

  /** Whether the teardown has begun (what the VM held is being, or was, given back). */
  get started(): boolean {
    return this.running !== null;
  }

  /** Gives back everything the VM holds, once; every later call gets the first one's report. */
  run(why: string): Promise<TeardownReport> {
    this.running ??= this.teardown(why);
    return this.running;
  }

  private async teardown(why: string): Promise<TeardownReport> {
    const done: TeardownStep[] = [];
    const failed: TeardownStep[] = [];
    for (const step of TEARDOWN_STEPS) {
      if (!this.held.has(step)) continue;
      try {
        await this.undo(step);
        done.push(step);
      } catch (err) {
        failed.push(step);
        this.logger.error({ err, step, why }, `teardown: ${step} cleanup failed; the other steps still run`);
      }
    }
    const log = failed.length > 0 ? this.logger.warn.bind(this.logger) : this.logger.info.bind(this.logger);
    log({ why, done, failed }, failed.length > 0 ? 'VM torn down, with failures' : 'VM torn down');
    return { done, failed };
  }

  private async undo(step: TeardownStep): Promise<void> {
    const { plan } = this;
    switch (step) {
      case 'devices': {
        // Each device on its own: one that fails to give back does not keep the others.
        let failures = 0;
        for (const { device, assignment } of plan.devices) {
          try {
            await device.release(plan.context, assignment);
            this.logger.info({ device: device.name, assignment: assignment.values }, 'device released');
          } catch (err) {
            failures++;
            this.logger.error({ err, device: device.name }, 'releasing a device failed');
          }
        }
        if (failures > 0) throw new ManagerError('DEVICE_RELEASE_FAILED', `${failures} device(s) could not be released`);
        return;
      }
      case 'boot':
        return plan.boot.cleanup(plan.context);
      case 'backend':
        return plan.backend.cleanup(plan.context);
      case 'files':
        return removeVmFiles(plan.layout);
      case 'port':
        return this.ports.release(plan.context.hostPort);
    }
  }
}
