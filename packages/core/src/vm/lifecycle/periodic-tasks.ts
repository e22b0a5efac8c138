import type { Logger } from 'pino';

/** Background sweeps on timers that never keep the process alive; a failing run is logged, never thrown. */
export class PeriodicTasks {
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly logger: Logger) {}

  every(ms: number, what: string, task: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      task().catch((err: unknown) => this.logger.error({ err }, `${what} failed`));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  stopAll(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }
}
