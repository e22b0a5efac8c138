import { mkdir } from 'node:fs/promises';
import { execa, type ResultPromise } from 'execa';
import type { Logger } from '@cocos-manager/core';
import { vsockBridgeArgv, type VsockBridgeOptions } from './vsock-bridge.js';

/** Waits before starting the bridge again after it ended: doubling from the first to the last. */
const RESTART_MS = { first: 1000, last: 30_000 } as const;

/**
 * The one socat a manager runs for the vsock channel (vsockBridgeArgv),
 * started with the first vsock VM and kept running: when it ends (the host
 * lost vhost_vsock, socat was killed) it is started again with a growing
 * wait, and a start that fails is logged, never a crash.
 */
export class VsockBridgeProcess {
  private child: ResultPromise | null = null;
  private timer: NodeJS.Timeout | null = null;
  private waitMs: number = RESTART_MS.first;
  private stopped = false;
  /** Times it was started, for the tests and the log. */
  starts = 0;

  constructor(
    private readonly options: VsockBridgeOptions,
    private readonly logger: Logger,
  ) {}

  get running(): boolean {
    return this.child !== null;
  }

  /** Starts it unless it runs (or waits to restart). */
  async ensure(): Promise<void> {
    if (this.child || this.timer) return;
    this.stopped = false;
    await mkdir(this.options.socketDir, { recursive: true, mode: 0o700 });
    this.start();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.child?.kill('SIGTERM');
    this.child = null;
  }

  private start(): void {
    const [file, ...args] = vsockBridgeArgv(this.options);
    this.starts++;
    const started = Date.now();
    const child = execa(file as string, args, { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', reject: false, cleanup: true, maxBuffer: 64 * 1024 });
    this.child = child;
    this.logger.info({ pid: child.pid, argv: [file, ...args] }, 'vsock bridge started');
    child.then(
      (result) => {
        if (this.child !== child) return;
        this.child = null;
        if (this.stopped) return;
        // A run that lasted resets the wait: only a bridge that keeps failing waits long.
        if (Date.now() - started > RESTART_MS.last) this.waitMs = RESTART_MS.first;
        this.logger.error(
          { code: result.exitCode, signal: result.signal, stderr: String(result.stderr ?? '').slice(-2000), nextInMs: this.waitMs },
          'vsock bridge ended; starting it again',
        );
        this.timer = setTimeout(() => {
          this.timer = null;
          if (!this.stopped) this.start();
        }, this.waitMs);
        this.timer.unref();
        this.waitMs = Math.min(RESTART_MS.last, this.waitMs * 2);
      },
      (err: unknown) => this.logger.error({ err }, 'the vsock bridge could not be watched'),
    );
  }
}
