import type { IdentityCheck, LaunchSpec, ProcessIdentity, ProcessLauncher, QmpConnection, SupervisedProcess, VmExit } from '@cocos-manager/core';
import { FakeQemu, FakeQmp, type FakeQemuScript } from './fake-qemu.js';

/**
 * A scriptable ProcessLauncher for fast tests of the VM lifecycle without
 * QEMU: each `start` makes a FakeQemu that follows the next queued script
 * (or the default); tests then make it exit, reuse its pid, or silence its
 * QMP, and inspect the signals and QMP commands it got. One instance may
 * outlive a manager, so a second manager can re-adopt its "processes".
 */
export class FakeLauncher implements ProcessLauncher {
  readonly processes: FakeQemu[] = [];
  private readonly queued: FakeQemuScript[] = [];
  private nextPid: number;
  /** How long `identify` takes (a slow /proc, a host under load): recovery is still running meanwhile. */
  identifyDelayMs = 0;

  /**
   * `firstPid`: the fake pids start there (40000 by default). A test whose
   * manager checks real /proc by pid (the VM-origin guard reads a VM's
   * descriptors) picks pids no real process can have, above pid_max.
   */
  constructor(
    private readonly defaults: FakeQemuScript = {},
    options: { firstPid?: number } = {},
  ) {
    this.nextPid = options.firstPid ?? 40_000;
  }

  /** The next `start` follows `script` (queued in order). */
  script(script: FakeQemuScript): this {
    this.queued.push(script);
    return this;
  }

  /** The processes still running. */
  get running(): FakeQemu[] {
    return this.processes.filter((p) => p.alive);
  }

  byPid(pid: number): FakeQemu {
    const found = this.processes.find((p) => p.pid === pid);
    if (!found) throw new Error(`no fake QEMU with pid ${pid}`);
    return found;
  }

  /** The pid now belongs to another program (the fake QEMU is gone, its pid recycled). */
  reusePid(pid: number, by = 'sleep'): void {
    const qemu = this.byPid(pid);
    qemu.exit({ signal: 'SIGKILL' });
    qemu.reusedBy = by;
  }

  /** Its QMP socket stops answering (a re-adopted QEMU without a working socket). */
  breakQmp(pid: number): void {
    this.byPid(pid).qmpBroken = true;
  }

  async start(spec: LaunchSpec): Promise<SupervisedProcess> {
    const script = { ...this.defaults, ...this.queued.shift() };
    if (script.spawnFails) throw new Error(`cannot start ${spec.argv[0] ?? 'QEMU'}: spawn ENOENT (fake)`);
    const pid = this.nextPid++;
    const qemu = new FakeQemu(pid, `${pid}00`, spec.argv, spec.name, spec.consoleLog, spec.qmpSocket, script);
    this.processes.push(qemu);
    await qemu.writeConsole(script.console ?? []);
    return qemu;
  }

  async connectQmp(socket: string, timeoutMs: number): Promise<QmpConnection> {
    const qemu = this.processes.find((p) => p.qmpSocket === socket && p.alive);
    if (!qemu) throw new Error(`connect ENOENT ${socket} (fake)`);
    if (qemu.script.qmp === 'silent' || qemu.qmpBroken) {
      await new Promise((r) => setTimeout(r, Math.min(timeoutMs, 50)));
      throw new Error(`no QMP greeting on ${socket} within ${timeoutMs} ms (fake)`);
    }
    const since = (qemu.firstConnectAt ??= Date.now());
    if (Date.now() < since + (qemu.script.qmpListensAfterMs ?? 0)) throw new Error(`connect ENOENT ${socket} (fake, not yet listening)`);
    const greetsInMs = since + (qemu.script.qmpGreetsAfterMs ?? 0) - Date.now();
    if (greetsInMs > 0) {
      // As a real socket: the greeting comes when it comes, and a connect gives up at its timeout.
      await new Promise((r) => setTimeout(r, Math.min(greetsInMs, timeoutMs)));
      if (greetsInMs > timeoutMs) throw new Error(`no QMP greeting on ${socket} within ${timeoutMs} ms (fake)`);
    }
    const qmp = new FakeQmp(qemu);
    qemu.connections.push(qmp);
    return qmp;
  }

  async identify(identity: ProcessIdentity, name: string): Promise<IdentityCheck> {
    if (this.identifyDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.identifyDelayMs));
    const qemu = this.processes.find((p) => p.pid === identity.pid);
    if (qemu?.reusedBy) return { same: false, reason: 'reused', why: `pid ${identity.pid} now belongs to another process (${qemu.reusedBy})` };
    if (!qemu?.alive) return { same: false, reason: 'gone', why: `pid ${identity.pid} is not running` };
    if (qemu.startTime !== identity.startTime)
      return { same: false, reason: 'reused', why: `pid ${identity.pid} now belongs to another process (start time ${qemu.startTime})` };
    if (qemu.name !== name) return { same: false, reason: 'not-ours', why: `pid ${identity.pid} does not carry -name ${name}` };
    return { same: true };
  }

  adopt(identity: ProcessIdentity, spec: Pick<LaunchSpec, 'consoleLog' | 'name'>): SupervisedProcess {
    const qemu = this.byPid(identity.pid);
    const exited: Promise<VmExit> = qemu.exited.then(() => ({
      code: null,
      signal: null,
      reason: 'QEMU (re-adopted after a manager restart) exited; exit status unknown',
    }));
    return {
      pid: qemu.pid,
      startTime: qemu.startTime,
      exited,
      kill: async (signal) => ((await this.identify(identity, spec.name)).same ? qemu.kill(signal) : false),
    };
  }
}
