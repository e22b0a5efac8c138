import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { SpawnerChannel, type SpawnEvents, type SpawnOrder } from './spawner-channel.js';

/**
 * The helper's command line: this Node with a small heap, and the helper
 * script next to this module (spawner-main.js in dist; the .ts under test,
 * run by Node's type stripping).
 */
export function spawnerCommand(): string[] {
  const here = fileURLToPath(import.meta.url);
  const script = path.join(path.dirname(here), here.endsWith('.ts') ? 'spawner-main.ts' : 'spawner-main.js');
  return [process.execPath, '--max-old-space-size=16', '--max-semi-space-size=1', '--disable-warning=ExperimentalWarning', script];
}

interface Helper {
  readonly child: ChildProcess;
  readonly channel: SpawnerChannel;
  readonly startedAt: number;
}

/**
 * Keeps one QEMU spawner running for the manager: started on first use (or
 * by `open`), restarted when it dies. Processes it had started are then
 * told they are orphaned (see SpawnerChannel) and are supervised without it.
 */
export class SpawnerClient {
  private helper: Helper | null = null;
  private closing = false;
  private restart: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Logger | null = null,
    private readonly command: readonly string[] = spawnerCommand(),
  ) {}

  /** Starts the spawner now (not on the first create) and waits until it is up. */
  async open(): Promise<void> {
    this.closing = false;
    await this.current().channel.ready;
  }

  /** The running spawner's pid (null when none is running). */
  get pid(): number | null {
    return this.helper?.child.pid ?? null;
  }

  /** Asks the spawner (started if need be) for a process. */
  spawn(order: SpawnOrder, events: SpawnEvents): { readonly channel: SpawnerChannel; readonly id: number } {
    const { channel } = this.current();
    return { channel, id: channel.spawn(order, events) };
  }

  /** Tells the spawner to go (its children run on) and waits for it; no restart after this until `open`. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.restart) clearTimeout(this.restart);
    const helper = this.helper;
    if (!helper) return;
    const gone = helper.child.exitCode !== null || helper.child.signalCode !== null ? Promise.resolve() : once(helper.child, 'exit');
    helper.channel.end();
    const timer = setTimeout(() => helper.child.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(timer);
  }

  private current(): Helper {
    if (this.helper?.channel.isOpen) return this.helper;
    return (this.helper = this.launch());
  }

  private launch(): Helper {
    const [file, ...args] = this.command;
    const env = { ...process.env };
    // The manager's own Node options (a profiler, a preload) are not the helper's.
    delete env['NODE_OPTIONS'];
    // Its own session: a Ctrl-C or hang-up aimed at the manager's terminal does not reach it.
    const child = execa(file!, args, {
      detached: true,
      cleanup: false,
      reject: false,
      buffer: false,
      env,
      extendEnv: false,
      stdio: ['pipe', 'pipe', 'pipe'],
      forceKillAfterDelay: false,
    });
    child.catch(() => undefined); // its end is handled through the exit event
    const channel = new SpawnerChannel(child.stdout!, child.stdin!);
    const helper: Helper = { child, channel, startedAt: Date.now() };
    createInterface({ input: child.stderr! }).on('line', (line) => this.logger?.warn({ spawner: child.pid }, line));
    child.on('error', (err) => {
      this.logger?.error({ err: err.message }, 'the QEMU spawner could not be started');
      channel.end();
    });
    child.once('exit', (code, signal) => this.onExit(helper, code, signal));
    // Neither the helper nor its pipes keep the manager's event loop alive.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    channel.ready.then(
      (pid) => this.logger?.info({ pid }, 'QEMU spawner started'),
      () => undefined,
    );
    return helper;
  }

  private onExit(helper: Helper, code: number | null, signal: string | null): void {
    if (this.helper === helper) this.helper = null;
    if (this.closing) return;
    // One that died young waits longer before the next try, so a helper that cannot start does not spin.
    const delay = Date.now() - helper.startedAt < 1000 ? 1000 : 100;
    this.logger?.warn(
      { pid: helper.child.pid, code, signal, restartInMs: delay },
      'the QEMU spawner exited; the VMs it started run on, supervised as adopted; restarting it',
    );
    this.restart = setTimeout(() => {
      this.restart = null;
      if (!this.closing && this.helper === null) this.current();
    }, delay);
    this.restart.unref();
  }
}
