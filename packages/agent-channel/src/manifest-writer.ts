import { createConnection } from 'node:net';
import { ManagerError } from '@cocos-manager/core';

export interface ManifestWriteOptions {
  /** How long to keep trying (the guest's port not open yet, QEMU starting), in all. */
  readonly timeoutMs: number;
  /** Wait between attempts. */
  readonly retryMs?: number;
}

function once(path: string, manifest: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('error', reject);
    socket.once('connect', () => {
      // Written once, then our end closed: the agent reads to the end of the manifest.
      socket.end(manifest, () => {
        socket.destroy();
        resolve();
      });
    });
  });
}

/**
 * Writes a VM's manifest to its manifest port (QEMU listening on the VM's
 * `agent-manifest.sock`), once, then closes: the agent reads it to its end.
 * Retries while the socket cannot be connected to; AGENT_CHANNEL_UNREACHABLE
 * after `timeoutMs`.
 */
export async function writeManifest(path: string, manifest: Uint8Array, options: ManifestWriteOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const retryMs = options.retryMs ?? 200;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      return await once(path, manifest);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, Math.min(retryMs, Math.max(0, deadline - Date.now()))));
    }
  }
  throw new ManagerError('AGENT_CHANNEL_UNREACHABLE', `the VM's manifest port could not be reached within ${options.timeoutMs} ms`, { cause: last });
}
