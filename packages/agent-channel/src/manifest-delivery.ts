import { createConnection, type Socket } from 'node:net';
import { ManagerError } from '@cocos-manager/core';

/** The largest manifest delivered: as large as a frame payload, and what the dev guest's agent takes. */
export const MAX_MANIFEST_BYTES = 1 << 20;

export interface ManifestDeliveryOptions {
  /** Connection attempts while the socket is not there yet or refuses (QEMU starting). */
  readonly attempts?: number;
  /** Wait between connection attempts. */
  readonly retryMs?: number;
  /** The whole delivery, connection attempts included: past it, the delivery fails and its connection is closed. */
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  /** Gives up at once (the VM is being removed). */
  readonly signal?: AbortSignal;
}

export const DEFAULT_MANIFEST_DELIVERY = { attempts: 50, retryMs: 200, timeoutMs: 120_000 } as const;

/** Why a delivery failed (`fields.reason` of its error). */
export type ManifestDeliveryFailure = 'invalid' | 'unreachable' | 'closed' | 'timeout' | 'aborted';

function failed(reason: ManifestDeliveryFailure, message: string, socketPath: string, cause?: unknown): ManagerError {
  return new ManagerError('AGENT_CHANNEL_UNREACHABLE', `the computation manifest was not delivered to the VM's agent: ${message}`, {
    fields: { reason },
    detail: `manifest socket ${socketPath}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Errors of a connect that says the socket is not (yet) served: worth another attempt. */
const NOT_LISTENING = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

/**
 * Writes a computation manifest to a VM's manifest port — QEMU's
 * `agent-manifest.sock` (`server=on,wait=off`) of its virtio-serial channel —
 * and ends the connection: the agent reads the manifest until that end.
 * Connects again while the socket is not there yet or refuses (QEMU
 * starting), `attempts` times at most.
 *
 * Resolves once QEMU has closed its side without error after reading the end:
 * it reads from the socket only while the guest has the port open and room
 * for the bytes, and a peer that closes with bytes unread resets the
 * connection, so a clean close means the agent holds the whole manifest. A
 * failure after the connection was made is not retried: the agent may have
 * read part of it, and a manifest is written once. Throws a ManagerError
 * (`AGENT_CHANNEL_UNREACHABLE`, `fields.reason`: {@link ManifestDeliveryFailure}).
 * Whatever the guest writes on the port is read and dropped.
 */
export async function deliverManifest(socketPath: string, manifest: Uint8Array, options: ManifestDeliveryOptions = {}): Promise<void> {
  const attempts = options.attempts ?? DEFAULT_MANIFEST_DELIVERY.attempts;
  const retryMs = options.retryMs ?? DEFAULT_MANIFEST_DELIVERY.retryMs;
  const timeoutMs = options.timeoutMs ?? DEFAULT_MANIFEST_DELIVERY.timeoutMs;
  const maxBytes = options.maxBytes ?? MAX_MANIFEST_BYTES;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a positive integer (got ${attempts})`);
  if (manifest.length === 0) throw failed('invalid', 'the manifest is empty', socketPath);
  if (manifest.length > maxBytes) throw failed('invalid', `the manifest is ${manifest.length} bytes; at most ${maxBytes} are delivered`, socketPath);
  const { signal } = options;
  if (signal?.aborted) throw failed('aborted', 'the delivery was abandoned', socketPath, signal.reason);

  return new Promise<void>((resolve, reject) => {
    let socket: Socket | null = null;
    let retry: NodeJS.Timeout | null = null;
    let deadline: NodeJS.Timeout | null = null;
    let settled = false;
    let attempt = 0;

    const settle = (err: ManagerError | null) => {
      if (settled) return;
      settled = true;
      if (deadline) clearTimeout(deadline);
      if (retry) clearTimeout(retry);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        socket?.destroy();
        reject(err);
      } else {
        resolve();
      }
    };
    const onAbort = () => settle(failed('aborted', 'the delivery was abandoned', socketPath, signal?.reason));

    const connect = () => {
      retry = null;
      attempt++;
      let connected = false;
      let written = false;
      let peerEnded = false;
      const s = createConnection(socketPath);
      socket = s;
      s.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        if (!connected && NOT_LISTENING.has(err.code ?? '') && attempt < attempts) {
          s.destroy();
          retry = setTimeout(connect, retryMs);
          return;
        }
        const why = err.code ?? err.message;
        if (!connected) settle(failed('unreachable', `its socket could not be connected to in ${attempt} attempts (${why})`, socketPath, err));
        else settle(failed('closed', `the connection failed (${why}) before the agent took all of it`, socketPath, err));
      });
      s.once('connect', () => {
        connected = true;
        // The guest → host direction of the port is not ours to read: dropped.
        s.resume();
        s.end(manifest, () => {
          written = true;
        });
      });
      s.on('end', () => {
        peerEnded = true;
      });
      // After 'error' when there was one (then settled); a clean close comes after our end was flushed.
      s.once('close', () => {
        if (settled || !connected) return;
        if (written && peerEnded) settle(null);
        else settle(failed('closed', 'the port was closed before the agent took all of it', socketPath));
      });
    };

    signal?.addEventListener('abort', onAbort, { once: true });
    deadline = setTimeout(() => settle(failed('timeout', `the agent did not take it within ${timeoutMs} ms`, socketPath)), timeoutMs);
    connect();
  });
}
