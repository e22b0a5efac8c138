import { destination as pinoDestination, pino, type DestinationStream, type Logger } from 'pino';
import { CREATE_REQUEST_FIELDS } from './api/create-request-fields.js';

/** The request's credentials, wherever an object carrying them is logged, and any whole `request`. */
const REDACTED = [...CREATE_REQUEST_FIELDS.filter((f) => f.secret).map((f) => `*.${f.key}`), 'request'];

/**
 * The manager's pino logger. Known secret-bearing request fields are redacted
 * wherever they might be logged; the service never logs them on purpose.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'cocos-manager' },
      redact: {
        paths: REDACTED,
        censor: '<redacted>',
      },
    },
    destination ?? pinoDestination({ fd: 1, sync: false }),
  );
}

/** Logs to stderr, synchronously: for one-shot commands whose stdout is their answer (a digest, a policy). */
export function stderrLogDestination(): DestinationStream {
  return pinoDestination({ fd: 2, sync: true });
}
