import { ConfigError, type ManagerConfig } from '@cocos-manager/core';
import { readClientTls, type ClientTls } from './client-tls.js';
import { cmClientSettings } from './settings.js';

/** The gRPC server transport's variables the client also reads (seeds/002 gave them the client's meaning). */
export const SHARED_VARIABLES = {
  serverCa: 'MANAGER_GRPC_SERVER_CA_CERTS',
  serverCert: 'MANAGER_GRPC_SERVER_CERT',
  timeout: 'MANAGER_GRPC_TIMEOUT',
} as const;

/** Used when neither MANAGER_CM_TIMEOUT nor MANAGER_GRPC_TIMEOUT is there (the latter's default). */
export const DEFAULT_DIAL_TIMEOUT_MS = 60_000;

export interface CmClientOptions {
  readonly url: string;
  /** Null: plaintext. */
  readonly tls: ClientTls | null;
  /** The variable the CA came from, when there is one (for the log). */
  readonly caFrom: string | null;
  readonly dialTimeoutMs: number;
  readonly reconnect: { readonly minMs: number; readonly maxMs: number };
}

/** The value of a variable another loaded plugin declares, or undefined when none does. */
function declaredElsewhere<T>(config: ManagerConfig, env: string): T | undefined {
  const declared = config.settings().find((s) => s.env === env);
  return declared === undefined ? undefined : config.get<T>(declared.key);
}

/**
 * Which CA file verifies Computation Management. MANAGER_CM_SERVER_CA_CERTS
 * when set. Else MANAGER_GRPC_SERVER_CA_CERTS, seeds/002's name — but that
 * variable is also the gRPC server's certificate chain: while the server has
 * a certificate (MANAGER_GRPC_SERVER_CERT) it means only that, and start-up
 * stops rather than let the client trust the server's own chain or dial
 * without TLS. Neither: none.
 */
export function serverCaOf(config: ManagerConfig): { path: string; env: string } {
  const own = cmClientSettings.cmClient.serverCaCerts.env;
  const cm = config.read(cmClientSettings).cmClient.serverCaCerts;
  if (cm !== '') return { path: cm, env: own };
  const shared = declaredElsewhere<string>(config, SHARED_VARIABLES.serverCa) ?? '';
  if (shared === '') return { path: '', env: own };
  if ((declaredElsewhere<string>(config, SHARED_VARIABLES.serverCert) ?? '') !== '') {
    throw new ConfigError(
      `${SHARED_VARIABLES.serverCa} is the gRPC server's certificate chain here (${SHARED_VARIABLES.serverCert} is set), not the CA of Computation Management: set ${own} for MANAGER_CM_CLIENT_ENABLE=true`,
    );
  }
  return { path: shared, env: SHARED_VARIABLES.serverCa };
}

/** Everything the client needs, checked once at start (TLS files read): a ConfigError of one line otherwise. */
export function cmClientOptions(config: ManagerConfig): CmClientOptions {
  const s = config.read(cmClientSettings).cmClient;
  const env = cmClientSettings.cmClient;
  if (s.reconnectMaxDelay < s.reconnectMinDelay) {
    throw new ConfigError(`${env.reconnectMaxDelay.env} must not be shorter than ${env.reconnectMinDelay.env}`);
  }
  const ca = serverCaOf(config);
  const tls = readClientTls({ cert: { path: s.clientCert, env: env.clientCert.env }, key: { path: s.clientKey, env: env.clientKey.env }, ca });
  const dialTimeoutMs = s.timeout ?? declaredElsewhere<number>(config, SHARED_VARIABLES.timeout) ?? DEFAULT_DIAL_TIMEOUT_MS;
  return {
    url: s.url,
    tls,
    caFrom: ca.path === '' ? null : ca.env,
    dialTimeoutMs,
    reconnect: { minMs: s.reconnectMinDelay, maxMs: s.reconnectMaxDelay },
  };
}
