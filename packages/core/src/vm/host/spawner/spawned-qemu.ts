import type { LaunchSpec, QmpConnection, SupervisedProcess } from '../../../api/process-launcher.js';
import type { VmExit } from '../../../api/vm-types.js';
import { ManagerError } from '../../../errors.js';
import { AdoptedProcess } from '../adopted-process.js';
import type { LivenessWatch } from '../liveness-watch.js';
import { readStartTime } from '../process-identity.js';
import { describeQemuExit } from '../qemu-exit.js';
import { qemusNamed } from '../sudo-qemu.js';
import { findQemuUnderSudo } from '../sudo-start.js';
import { isSudoArgv, signalProcess } from '../sudo-signal.js';
import type { SpawnerChannel } from './spawner-channel.js';
import type { SpawnerClient } from './spawner-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Ending = { readonly kind: 'exit'; readonly code: number | null; readonly signal: string | null } | { readonly kind: 'orphaned' };
/** `released`: the manager stopped and let it run on for the next one; nothing here watches it any more. */
type State = Ending | { readonly kind: 'released' };

/**
 * A QEMU started by the spawner (spawner-main.ts): the spawner's child, so
 * its exit status comes from the spawner's report, and signals go through
 * the spawner while it has not reaped it (a pid that cannot have been
 * reused). Through sudo, as in QemuProcess: the spawner's child is sudo,
 * `pid`/`startTime` are QEMU's own and signals go to QEMU itself.
 *
 * If the spawner dies first, QEMU runs on with init as its parent: from
 * then on it is supervised as a re-adopted QEMU is (AdoptedProcess: pid and
 * /proc start time, the end of its QMP connection, the shared liveness watch).
 */
export class SpawnedQemu implements SupervisedProcess {
  readonly exited: Promise<VmExit>;
  private adopted: AdoptedProcess | null = null;
  private qmp: QmpConnection | null = null;
  private ending: State | null = null;
  private settle!: (ending: Ending) => void;

  private constructor(
    private readonly channel: SpawnerChannel,
    private readonly id: number,
    readonly pid: number,
    readonly startTime: string,
    private readonly spec: LaunchSpec,
    private readonly viaSudo: boolean,
    ended: Promise<Ending>,
    private readonly liveness: LivenessWatch,
  ) {
    ended.then(
      (e) => this.finish(e),
      () => undefined,
    );
    this.exited = new Promise<Ending>((resolve) => (this.settle = resolve)).then(async (ending) => {
      if (ending.kind === 'orphaned') return this.adoptedAfterSpawner().exited;
      // sudo itself killed (SIGKILL cannot be relayed) leaves QEMU running: the VM lasts as long as QEMU.
      while (viaSudo && (await this.qemuAlive())) await sleep(200);
      return describeQemuExit(spec.consoleLog, ending.code, ending.signal);
    });
  }

  /** Asks `spawner` for QEMU; rejects (QEMU_SPAWN_FAILED) when it cannot be started. */
  static async start(spawner: SpawnerClient, spec: LaunchSpec, liveness: LivenessWatch): Promise<SpawnedQemu> {
    const [file, ...args] = spec.argv;
    if (file === undefined) throw new ManagerError('QEMU_ARGUMENT_INVALID', 'empty QEMU argv');
    let spawned!: (r: { pid: number; startTime: string } | { failed: string } | { orphaned: true }) => void;
    let ended!: (e: Ending) => void;
    const started = new Promise<{ pid: number; startTime: string } | { failed: string } | { orphaned: true }>((r) => (spawned = r));
    const ending = new Promise<Ending>((r) => (ended = r));
    let isEnded = false;
    const { channel, id } = spawner.spawn(
      { file, args, log: spec.consoleLog },
      {
        spawned: (pid, startTime) => spawned({ pid, startTime }),
        failed: (message) => spawned({ failed: message }),
        exited: (code, signal) => {
          isEnded = true;
          ended({ kind: 'exit', code, signal });
        },
        orphaned: () => {
          spawned({ orphaned: true });
          ended({ kind: 'orphaned' });
        },
      },
    );
    const outcome = await started;
    if ('failed' in outcome) throw new ManagerError('QEMU_SPAWN_FAILED', `cannot start ${file}: ${outcome.failed}`);
    if ('orphaned' in outcome) {
      // It may have been started before the spawner died: none of ours runs unrecorded.
      await Promise.all((await qemusNamed(spec.name)).map((pid) => signalProcess(pid, 'SIGKILL').catch(() => false)));
      throw new ManagerError('QEMU_SPAWN_FAILED', `the QEMU spawner exited before ${file} was started`);
    }
    let { pid, startTime } = outcome;
    const viaSudo = isSudoArgv(spec.argv);
    if (viaSudo) {
      const sudo = {
        pid,
        ended: () => isEnded,
        exit: ending,
        terminate: () => {
          channel.kill(id, 'SIGTERM').catch(() => null);
        },
      };
      const qemu = await findQemuUnderSudo(sudo, spec.consoleLog, spec.name);
      if (qemu !== null) {
        pid = qemu;
        startTime = (await readStartTime(qemu)) ?? '';
      }
    }
    return new SpawnedQemu(channel, id, pid, startTime, spec, viaSudo, ending, liveness);
  }

  /** QEMU's QMP connection: once the spawner is gone, the end of it is how QEMU's exit is seen at once. */
  watchQmp(qmp: QmpConnection): void {
    this.qmp = qmp;
  }

  /** Sends a signal; false when the process is already gone. */
  async kill(signal: NodeJS.Signals): Promise<boolean> {
    if (this.isOrphaned()) return this.adoptedAfterSpawner().kill(signal);
    if (this.ending?.kind === 'released' || (this.ending !== null && !this.viaSudo)) return false;
    if (!this.viaSudo) {
      const sent = await this.channel.kill(this.id, signal);
      if (sent !== null) return sent;
      // The spawner died meanwhile: QEMU is supervised as adopted now (the channel marks it orphaned before answering null).
      return this.isOrphaned() ? this.adoptedAfterSpawner().kill(signal) : false;
    }
    // QEMU itself, never sudo (a SIGKILL to sudo would orphan QEMU); and only while the pid is still that QEMU.
    if (!(await this.qemuAlive())) return false;
    const sent = await signalProcess(this.pid, signal);
    // sudo stops itself when its command is stopped (job control); it must run again to reap a killed QEMU and exit.
    if (signal === 'SIGKILL' && this.ending === null) this.channel.kill(this.id, 'SIGCONT').catch(() => null);
    return sent;
  }

  /** Stops watching (the manager stops and leaves QEMU running): when the spawner exits now, nothing adopts it. */
  release(): void {
    this.ending ??= { kind: 'released' };
  }

  private isOrphaned(): boolean {
    return this.ending?.kind === 'orphaned';
  }

  private finish(ending: Ending): void {
    if (this.ending !== null) return;
    this.ending = ending;
    this.settle(ending);
  }

  private adoptedAfterSpawner(): AdoptedProcess {
    this.adopted ??= new AdoptedProcess(
      { pid: this.pid, startTime: this.startTime },
      this.spec.name,
      this.spec.consoleLog,
      this.qmp,
      this.liveness,
      'supervised without its parent, the QEMU spawner, which died',
    );
    return this.adopted;
  }

  private async qemuAlive(): Promise<boolean> {
    return this.startTime !== '' && (await readStartTime(this.pid)) === this.startTime;
  }
}
