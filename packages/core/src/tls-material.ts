import { readFileSync } from 'node:fs';
import { ConfigError } from './config/manager-config.js';

/** The environment variables of one listener's TLS files (gRPC, HTTP). */
export interface TlsVariables {
  readonly cert: string;
  readonly key: string;
  readonly chain: string;
  readonly clientCa: string;
}

export interface TlsMaterial {
  /** The server certificate followed by its chain. */
  readonly certChain: Buffer;
  readonly key: Buffer;
  /** CAs client certificates must chain to; null when clients need none. */
  readonly clientCa: Buffer | null;
}

/**
 * Reads a listener's TLS files from their configured paths; null when TLS is
 * off (neither certificate nor key set). Half a configuration, or an
 * unreadable file, is a ConfigError naming the variable.
 */
export function readTlsMaterial(paths: { cert: string; key: string; chain: string; clientCa: string }, env: TlsVariables): TlsMaterial | null {
  if (paths.cert === '' && paths.key === '') return null;
  if (paths.cert === '' || paths.key === '') throw new ConfigError(`${env.cert} and ${env.key} must be set together to enable TLS`);
  const read = (file: string, variable: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`${variable}=${JSON.stringify(file)}: expected a readable PEM file (${(err as Error).message})`);
    }
  };
  let certChain = read(paths.cert, env.cert);
  if (paths.chain !== '') certChain = Buffer.concat([certChain, Buffer.from('\n'), read(paths.chain, env.chain)]);
  return { certChain, key: read(paths.key, env.key), clientCa: paths.clientCa === '' ? null : read(paths.clientCa, env.clientCa) };
}
