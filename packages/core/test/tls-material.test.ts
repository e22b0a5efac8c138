import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/manager-config.js';
import { readTlsMaterial } from '../src/tls-material.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-tls-material-'));
const file = (name: string) => path.join(dir, name);
const VARS = { cert: 'X_CERT', key: 'X_KEY', chain: 'X_CA_CERTS', clientCa: 'X_CLIENT_CA_CERTS' };
const paths = (p: Partial<Record<'cert' | 'key' | 'chain' | 'clientCa', string>>) => ({ cert: '', key: '', chain: '', clientCa: '', ...p });

/** The one line a ConfigError thrown by `run` carries. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    return message;
  }
  throw new Error('expected a ConfigError');
}

beforeAll(async () => {
  for (const name of ['a', 'b']) {
    await execa('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.pem`),
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
    ]);
  }
  await execa('openssl', ['genrsa', '-out', file('rsa.key'), '2048']);
  writeFileSync(file('garbage.key'), 'not a key\n');
  writeFileSync(file('unreadable.key'), readFileSync(file('a.key')));
  chmodSync(file('unreadable.key'), 0o000);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readTlsMaterial fails closed', () => {
  it('nothing set: TLS off', () => {
    expect(readTlsMaterial(paths({}), VARS)).toBeNull();
  });

  it('certificate and matching key (with chain and client CA): served', () => {
    const tls = readTlsMaterial(paths({ cert: file('a.pem'), key: file('a.key'), chain: file('b.pem'), clientCa: file('b.pem') }), VARS);
    expect(tls?.key.equals(readFileSync(file('a.key')))).toBe(true);
    expect(tls?.certChain.toString()).toContain(readFileSync(file('b.pem'), 'utf8'));
    expect(tls?.clientCa?.equals(readFileSync(file('b.pem')))).toBe(true);
  });

  it('a client CA without certificate and key stops start-up', () => {
    expect(refusal(() => readTlsMaterial(paths({ clientCa: file('b.pem') }), VARS))).toBe(
      'X_CLIENT_CA_CERTS is set but X_CERT and X_KEY are not: mTLS needs the server certificate and key',
    );
  });

  it('a chain without certificate and key stops start-up', () => {
    expect(refusal(() => readTlsMaterial(paths({ chain: file('b.pem') }), VARS))).toMatch(/^X_CA_CERTS is set but X_CERT and X_KEY are not/);
  });

  it('half a pair stops start-up', () => {
    expect(refusal(() => readTlsMaterial(paths({ cert: file('a.pem') }), VARS))).toBe('X_CERT and X_KEY must be set together to enable TLS');
  });

  it('a key of another certificate stops start-up, naming the key variable', () => {
    expect(refusal(() => readTlsMaterial(paths({ cert: file('a.pem'), key: file('b.key') }), VARS))).toBe(
      `X_KEY=${JSON.stringify(file('b.key'))}: the key does not match the certificate of X_CERT`,
    );
    expect(refusal(() => readTlsMaterial(paths({ cert: file('a.pem'), key: file('rsa.key') }), VARS))).toMatch(/does not match the certificate of X_CERT$/);
  });

  it('an unparsable key or certificate, a missing or unreadable file: one line naming the variable', () => {
    expect(refusal(() => readTlsMaterial(paths({ cert: file('a.pem'), key: file('garbage.key') }), VARS))).toBe(
      `X_KEY=${JSON.stringify(file('garbage.key'))}: expected an unencrypted PEM private key`,
    );
    expect(refusal(() => readTlsMaterial(paths({ cert: file('garbage.key'), key: file('a.key') }), VARS))).toBe(
      `X_CERT=${JSON.stringify(file('garbage.key'))}: expected a PEM certificate`,
    );
    expect(refusal(() => readTlsMaterial(paths({ cert: file('a.pem'), key: file('missing.key') }), VARS))).toBe(
      `X_KEY=${JSON.stringify(file('missing.key'))}: expected a readable PEM file (ENOENT)`,
    );
    if (process.getuid?.() !== 0) {
      expect(refusal(() => readTlsMaterial(paths({ cert: file('a.pem'), key: file('unreadable.key') }), VARS))).toBe(
        `X_KEY=${JSON.stringify(file('unreadable.key'))}: expected a readable PEM file (EACCES)`,
      );
    }
    expect(refusal(() => readTlsMaterial(paths({ cert: file('a.pem'), key: file('a.key'), clientCa: file('garbage.key') }), VARS))).toBe(
      `X_CLIENT_CA_CERTS=${JSON.stringify(file('garbage.key'))}: expected PEM CA certificates`,
    );
  });
});
