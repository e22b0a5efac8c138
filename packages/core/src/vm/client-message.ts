import { ManagerError } from '../errors.js';

/** An absolute host path inside a message: after a start, a space, a quote or one of `=(,[`. */
const HOST_PATH = /(^|[\s'"`=(,[])(\/(?!\/)[^\s'"`,)\]]*)/g;

/**
 * `message` with every absolute host path cut to `…/<file name>`: the
 * client learns which file (OVMF_VARS.fd, bzImage), not where the host keeps
 * it or its run directory.
 */
export function withoutHostPaths(message: string): string {
  return message.replace(HOST_PATH, (_all, before: string, file: string) => {
    const name = file.replace(/\/+$/, '').split('/').pop() ?? '';
    return `${before}…/${name}`;
  });
}

/**
 * The error a client sees for a failed create: the same kind (so the same
 * gRPC and HTTP status), its message without host paths (run directory,
 * firmware and image files, sockets). The full message stays in the log.
 */
export function clientSafe(err: ManagerError): ManagerError {
  const message = withoutHostPaths(err.message);
  return message === err.message ? err : new ManagerError(err.kind, message, { cause: err });
}
