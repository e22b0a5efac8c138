import type { LaunchSpec, ProcessLauncher, QmpConnection } from '../../api/process-launcher.js';
import { AdoptedProcess } from './adopted-process.js';
import { checkIdentity, type IdentityCheck, type ProcessIdentity } from './process-identity.js';
import { QemuProcess } from './qemu-process.js';
import { QmpClient } from './qmp-client.js';
import { claimRootSocket } from './sudo-qemu.js';
import type { SupervisedProcess } from '../../api/process-launcher.js';

/** The real launcher: QEMU as an execa child, QMP over its unix socket, identity from /proc. */
export class QemuLauncher implements ProcessLauncher {
  start(spec: LaunchSpec): Promise<SupervisedProcess> {
    return QemuProcess.start(spec.argv, spec.consoleLog, spec.name);
  }

  async connectQmp(socket: string, timeoutMs: number): Promise<QmpConnection> {
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

  identify(identity: ProcessIdentity, name: string): Promise<IdentityCheck> {
    return checkIdentity(identity, name);
  }

  adopt(identity: ProcessIdentity, spec: Pick<LaunchSpec, 'consoleLog' | 'name'>, qmp: QmpConnection | null): SupervisedProcess {
    return new AdoptedProcess(identity, spec.name, spec.consoleLog, qmp);
  }
}
