import type { LaunchSpec, ProcessLauncher, QmpConnection } from '../../api/process-launcher.js';
import { AdoptedProcess } from './adopted-process.js';
import { LivenessWatch } from './liveness-watch.js';
import { checkIdentity, type IdentityCheck, type ProcessIdentity } from './process-identity.js';
import { QemuProcess } from './qemu-process.js';
import { QmpClient } from './qmp-client.js';
import { socketAppears } from './socket-appears.js';
import { SpawnedQemu } from './spawner/spawned-qemu.js';
import type { SpawnerClient } from './spawner/spawner-client.js';
import { claimRootSocket } from './sudo-qemu.js';
import type { SupervisedProcess } from '../../api/process-launcher.js';

/**
 * The real launcher: QMP over QEMU's unix socket, identity from /proc, and
 * QEMU started either by the QEMU spawner (a small helper process, so the
 * manager's event loop never pays a fork of the manager: `spawner` given,
 * MANAGER_QEMU_SPAWNER=helper) or directly as an execa child of the manager
 * (no `spawner`, MANAGER_QEMU_SPAWNER=direct).
 */
export class QemuLauncher implements ProcessLauncher {
  /** QEMUs from the spawner by QMP socket, until they end: their QMP connection is theirs to watch if the spawner dies. */
  private readonly spawned = new Map<string, SpawnedQemu>();
  /** One timer watching every QEMU that is not a child (re-adopted, or its spawner died). */
  private readonly liveness = new LivenessWatch();

  constructor(private readonly spawner: SpawnerClient | null = null) {}

  async open(): Promise<void> {
    await this.spawner?.open();
  }

  async close(): Promise<void> {
    for (const proc of this.spawned.values()) proc.release();
    this.spawned.clear();
    this.liveness.stop();
    await this.spawner?.close();
  }

  async start(spec: LaunchSpec): Promise<SupervisedProcess> {
    if (!this.spawner) return QemuProcess.start(spec.argv, spec.consoleLog, spec.name);
    const proc = await SpawnedQemu.start(this.spawner, spec, this.liveness);
    this.spawned.set(spec.qmpSocket, proc);
    const forget = () => {
      if (this.spawned.get(spec.qmpSocket) === proc) this.spawned.delete(spec.qmpSocket);
    };
    proc.exited.then(forget, forget);
    return proc;
  }

  async connectQmp(socket: string, timeoutMs: number): Promise<QmpConnection> {
    const qmp = await this.connect(socket, timeoutMs);
    this.spawned.get(socket)?.watchQmp(qmp);
    return qmp;
  }

  qmpSocketAppears(socket: string, withinMs: number): Promise<boolean> {
    return socketAppears(socket, withinMs);
  }

  identify(identity: ProcessIdentity, name: string): Promise<IdentityCheck> {
    return checkIdentity(identity, name);
  }

  adopt(identity: ProcessIdentity, spec: Pick<LaunchSpec, 'consoleLog' | 'name'>, qmp: QmpConnection | null): SupervisedProcess {
    return new AdoptedProcess(identity, spec.name, spec.consoleLog, qmp, this.liveness);
  }

  private async connect(socket: string, timeoutMs: number): Promise<QmpConnection> {
    const deadline = Date.now() + timeoutMs;
    try {
      return await QmpClient.connect(socket, timeoutMs);
    } catch (err) {
      // A QEMU run through sudo by a non-root manager made a root-owned socket: take it over once, then retry (same deadline).
      if ((err as NodeJS.ErrnoException).code !== 'EACCES' || !(await claimRootSocket(socket))) throw err;
      const left = deadline - Date.now();
      if (left <= 0) throw err;
      return QmpClient.connect(socket, left);
    }
  }
}
