import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config/manager-config.js';
import { nodeCrypto } from './node-builtins.js';

const { createPrivateKey, createPublicKey, X509Certificate } = nodeCrypto;

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
 * off (none of the four set). Fails closed: half a configuration (a CA or a
 * chain without certificate and key, a certificate without key), an
 * unreadable file, a certificate or key that does not parse, or a key that
 * is not the certificate's is a ConfigError of one line naming the variable.
 */
export function readTlsMaterial(paths: { cert: string; key: string; chain: string; clientCa: string }, env: TlsVariables): TlsMaterial | null {
  if (paths.cert === '' && paths.key === '') {
    // Without this, a client CA meant to require mTLS would silently leave the listener plaintext.
    if (paths.clientCa !== '')
      throw new ConfigError(`${env.clientCa} is set but ${env.cert} and ${env.key} are not: mTLS needs the server certificate and key`);
    if (paths.chain !== '') throw new ConfigError(`${env.chain} is set but ${env.cert} and ${env.key} are not: TLS needs the server certificate and key`);
    return null;
  }
  if (paths.cert === '' || paths.key === '') throw new ConfigError(`${env.cert} and ${env.key} must be set together to enable TLS`);
  const read = (file: string, variable: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(
        `${variable}=${JSON.stringify(file)}: expected a readable PEM file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  };
  const cert = read(paths.cert, env.cert);
  const key = read(paths.key, env.key);
  checkKeyMatches(cert, key, paths, env);
  const certChain = paths.chain === '' ? cert : Buffer.concat([cert, Buffer.from('\n'), read(paths.chain, env.chain)]);
  const clientCa = paths.clientCa === '' ? null : read(paths.clientCa, env.clientCa);
  if (clientCa && !/-----BEGIN CERTIFICATE-----/.test(clientCa.toString('latin1'))) {
    throw new ConfigError(`${env.clientCa}=${JSON.stringify(paths.clientCa)}: expected PEM CA certificates`);
  }
  return { certChain, key, clientCa };
}

/** The certificate's public key must be the private key's: a mismatch would only show at the first handshake. */
function checkKeyMatches(cert: Buffer, key: Buffer, paths: { cert: string; key: string }, env: TlsVariables): void {
  let certificateKey: KeyObject;
  try {
    certificateKey = new X509Certificate(cert).publicKey;
  } catch {
    throw new ConfigError(`${env.cert}=${JSON.stringify(paths.cert)}: expected a PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // The parser's message can quote the file; the line says only what is wrong.
    throw new ConfigError(`${env.key}=${JSON.stringify(paths.key)}: expected an unencrypted PEM private key`);
  }
  const der = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!der(createPublicKey(privateKey)).equals(der(certificateKey))) {
    throw new ConfigError(`${env.key}=${JSON.stringify(paths.key)}: the key does not match the certificate of ${env.cert}`);
  }
}
