import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError, nodeCrypto } from '@cocos-manager/core';

const { createPrivateKey, createPublicKey, X509Certificate } = nodeCrypto;

/** The files of the client's TLS, each with the variable that named it (for the error line). */
export interface ClientTlsPaths {
  readonly cert: { readonly path: string; readonly env: string };
  readonly key: { readonly path: string; readonly env: string };
  readonly ca: { readonly path: string; readonly env: string };
}

/** The client's TLS material; null for plaintext. `ca` null: the system's roots. */
export interface ClientTls {
  readonly ca: Buffer | null;
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
}

function read(file: { path: string; env: string }): Buffer {
  try {
    return readFileSync(file.path);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(`${file.env}=${JSON.stringify(file.path)}: expected a readable PEM file (${why})`);
  }
}

/**
 * Reads the client's TLS files once, at start: plaintext when neither a CA
 * nor a client certificate is set; TLS when a CA is; mTLS with the client
 * certificate and key, which go together. Fails closed with one line naming
 * the variable: half a key pair, an unreadable file, a certificate, key or CA
 * that does not parse, a key that is not the certificate's.
 */
export function readClientTls(paths: ClientTlsPaths): ClientTls | null {
  const { cert, key, ca } = paths;
  if ((cert.path === '') !== (key.path === '')) {
    throw new ConfigError(`${cert.env} and ${key.env} must be set together (the client certificate for Computation Management and its key)`);
  }
  if (cert.path === '' && ca.path === '') return null;
  const caPem = ca.path === '' ? null : read(ca);
  if (caPem) {
    try {
      new X509Certificate(caPem);
    } catch {
      throw new ConfigError(`${ca.env}=${JSON.stringify(ca.path)}: expected PEM CA certificates`);
    }
  }
  if (cert.path === '') return { ca: caPem, cert: null, key: null };
  const certPem = read(cert);
  const keyPem = read(key);
  let certificateKey: KeyObject;
  try {
    certificateKey = new X509Certificate(certPem).publicKey;
  } catch {
    throw new ConfigError(`${cert.env}=${JSON.stringify(cert.path)}: expected a PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch {
    throw new ConfigError(`${key.env}=${JSON.stringify(key.path)}: expected an unencrypted PEM private key`);
  }
  const der = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (!der(createPublicKey(privateKey)).equals(der(certificateKey))) {
    throw new ConfigError(`${key.env}=${JSON.stringify(key.path)}: the key does not match the certificate of ${cert.env}`);
  }
  return { ca: caPem, cert: certPem, key: keyPem };
}
