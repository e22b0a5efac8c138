import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ConnectionGuard } from '../api/connection-guard.js';

/** A socket's 'error' listener while a gate holds it: a reset before the server takes over must not become an uncaught 'error'. */
export const IGNORE_SOCKET_ERRORS = (): undefined => undefined;

/**
 * Why the connection guard refuses `socket` (`vm-origin`, `peer-unverified`,
 * `guard-error` when it could not decide — refused, fail closed), or null
 * when it may go on. What both transports' gates ask before TLS or HTTP
 * reads a byte.
 */
export async function guardRefusal(guard: ConnectionGuard, socket: Socket, log: { logger: Logger; transport: string }): Promise<string | null> {
  try {
    const verdict = await guard.check({
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '',
      localPort: socket.localPort ?? 0,
    });
    return verdict.allowed ? null : verdict.cause;
  } catch (err) {
    log.logger.error({ err }, `${log.transport}: the connection guard failed; connection refused`);
    return 'guard-error';
  }
}
