import { destination as pinoDestination, pino, type DestinationStream, type Logger } from 'pino';

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
        paths: [
          '*.agentCvmClientKey',
          '*.agentCvmClientCert',
          '*.agentCvmServerCaCert',
          '*.awsSecretAccessKey',
          '*.awsAccessKeyId',
          '*.agentCertsToken',
          'request',
        ],
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
