// setTimeout fires at once for delays above 2^31-1 ms (~24.8 days); longer TTLs re-arm.
const MAX_TIMER_MS = 2_147_483_647;

/** Calls `fire` at an absolute deadline, however far away. */
export class TtlTimer {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly deadline: Date,
    private readonly fire: () => void,
  ) {
    this.arm();
  }

  private arm(): void {
    const remaining = this.deadline.getTime() - Date.now();
    if (remaining <= 0) {
      this.timer = null;
      this.fire();
      return;
    }
    this.timer = setTimeout(() => this.arm(), Math.min(remaining, MAX_TIMER_MS));
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
