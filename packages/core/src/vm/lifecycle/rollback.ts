import type { Logger } from 'pino';

/** Undo steps of a create in progress, run in reverse if it fails; a failing step does not stop the others. */
export class Rollback {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];

  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }

  async run(logger: Logger): Promise<void> {
    for (const step of this.steps.reverse()) {
      try {
        await step();
      } catch (err) {
        logger.error({ err }, 'rollback step failed');
      }
    }
  }
}
