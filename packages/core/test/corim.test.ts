import { execFileSync, spawnSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, policyJsonBytes, type AttestationPolicyDocument } from '../src/index.js';
import { loadManagerConfig, corimSigningKey, encodePolicy, attestationSettings } from '../src/internal.js';

// The independent decoder: python3 with cbor2 and cryptography (Debian packages scripts/setup.sh installs).
const VERIFIER = path.resolve(import.meta.dirname, '../../../apps/manager/test/verify_corim.py');
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-corim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NAMES = 'launch-measurement,pcr4,pcr7,mrtd';

interface Decoded {
  signed?: { alg: number; content_type: string; signer: string };
  id: string;
  tag_id: string;
  environment: { vendor: string; model: string };
  measurements: Array<{ key: string; name: string | null; alg: number; digest: string }>;
}

let files = 0;
function decode(bytes: Uint8Array, publicKeyPem = ''): { ok: true; out: Decoded } | { ok: false; error: string } {
  const corimFile = path.join(dir, `policy-${++files}.corim`);
  writeFileSync(corimFile, bytes);
  let keyFile = '';
  if (publicKeyPem) writeFileSync((keyFile = path.join(dir, `key-${files}.pem`)), publicKeyPem);
  const result = spawnSync('/usr/bin/python3', [VERIFIER, corimFile, keyFile, NAMES], { encoding: 'utf8' });
  return result.status === 0 ? { ok: true, out: JSON.parse(result.stdout) as Decoded } : { ok: false, error: result.stderr };
}
function decoded(bytes: Uint8Array, publicKeyPem = ''): Decoded {
  const result = decode(bytes, publicKeyPem);
  if (!result.ok) throw new Error(result.error);
  return result.out;
}

const launch = Buffer.alloc(48, 0xc0);
const snpDoc: AttestationPolicyDocument = {
  tee: 'sev-snp',
  environment: { vendor: 'AMD', model: 'SEV-SNP' },
  json: { policy: { measurement: launch.toString('base64') } },
  measurements: [
    { name: 'launch-measurement', digest: launch },
    { name: 'pcr4', digest: Buffer.alloc(32, 0x04) },
    { name: 'pcr7', digest: Buffer.alloc(64, 0x07) },
  ],
};
const tdxDoc: AttestationPolicyDocument = {
  tee: 'tdx',
  environment: { vendor: 'Intel', model: 'TDX' },
  json: {},
  measurements: [{ name: 'mrtd', digest: Buffer.alloc(48, 0x44) }],
};

const ecKey = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

describe('CoRIM encoding (decoded by python cbor2, an independent decoder)', () => {
  it('unsigned: an untagged corim-map {0 id, 1 [bstr 506-tagged CoMID]} with the environment and every digest, alg id by length', () => {
    const out = decoded(encodePolicy(snpDoc, { format: 'corim' }));
    expect(out.signed).toBeUndefined();
    expect(out.id).toMatch(/^sev-snp-corim-[0-9a-f-]{36}$/);
    expect(out.tag_id).toMatch(/^sev-snp-tag-[0-9a-f-]{36}$/);
    expect(out.environment).toEqual({ vendor: 'AMD', model: 'SEV-SNP' });
    expect(out.measurements.map(({ name, alg, digest }) => ({ name, alg, digest }))).toEqual([
      { name: 'launch-measurement', alg: 7, digest: launch.toString('hex') },
      { name: 'pcr4', alg: 1, digest: '04'.repeat(32) },
      { name: 'pcr7', alg: 8, digest: '07'.repeat(64) },
    ]);
  });

  it('unsigned TDX: MRTD as SHA-384 (alg 7) under Intel/TDX; a fresh corim id each time', () => {
    const first = decoded(encodePolicy(tdxDoc, { format: 'corim' }));
    const second = decoded(encodePolicy(tdxDoc, { format: 'corim', signingKey: '' }));
    expect(first.environment).toEqual({ vendor: 'Intel', model: 'TDX' });
    expect(first.measurements).toMatchObject([{ name: 'mrtd', alg: 7, digest: '44'.repeat(48) }]);
    expect(first.measurements[0]!.key).toBe(second.measurements[0]!.key);
    expect(first.id).not.toBe(second.id);
  });

  it.each([
    ['prime256v1', -7],
    ['secp384r1', -35],
  ])('signed with a %s key: COSE_Sign1 with alg %i, content type and corim-meta; the signature verifies with python cryptography', (curve, alg) => {
    const { privateKey, publicKey } = ecKey(curve);
    const bytes = encodePolicy(snpDoc, { format: 'corim', signingKey: corimSigningKey(privateKey), signerName: 'manager-7f3a' });
    expect(bytes[0]).toBe(0xd2); // tag 18, COSE_Sign1_Tagged, as go-cose requires
    const out = decoded(bytes, pem(publicKey));
    expect(out.signed).toEqual({ alg, content_type: 'application/rim+cbor', signer: 'manager-7f3a' });
    expect(out.measurements[0]).toMatchObject({ name: 'launch-measurement', alg: 7, digest: launch.toString('hex') });
    // One flipped byte of the signed digest, or another key: verification must fail.
    const tampered = Buffer.from(bytes);
    tampered[tampered.indexOf(launch)] ^= 0xff;
    expect(decode(tampered, pem(publicKey)).ok).toBe(false);
    expect(decode(bytes, pem(ecKey(curve).publicKey)).ok).toBe(false);
  });

  it('a key file path is read and checked; the signer name falls back to a non-empty one', () => {
    const { privateKey, publicKey } = ecKey('secp384r1');
    const keyFile = path.join(dir, 'p384.key');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const out = decoded(encodePolicy(tdxDoc, { format: 'corim', signingKey: keyFile }), pem(publicKey));
    expect(out.signed).toMatchObject({ alg: -35, signer: 'cocos-manager' });
  });

  it('refuses keys it cannot sign with, naming the variable and what is expected', () => {
    const ed = generateKeyPairSync('ed25519').privateKey;
    expect(() => corimSigningKey(ed, 'MANAGER_CORIM_SIGNING_KEY="ed.key"')).toThrow(
      new ConfigError('MANAGER_CORIM_SIGNING_KEY="ed.key": expected an EC key on P-256 (ES256) or P-384 (ES384), got ed25519'),
    );
    expect(() => corimSigningKey(ecKey('secp521r1').privateKey)).toThrow(/expected an EC key on P-256 \(ES256\) or P-384 \(ES384\), got ec secp521r1$/);
    expect(() => corimSigningKey(ecKey('prime256v1').publicKey)).toThrow(/got a public key$/);
    const missing = path.join(dir, 'missing.key');
    expect(() => encodePolicy(tdxDoc, { format: 'corim', signingKey: missing })).toThrow(
      `MANAGER_CORIM_SIGNING_KEY=${JSON.stringify(missing)}: expected a readable PEM EC private key`,
    );
  });

  it('refuses a policy without measurements, and a digest of a length no hash algorithm has', () => {
    expect(() => encodePolicy({ ...tdxDoc, measurements: [] }, { format: 'corim' })).toThrow(
      'the tdx policy has no reference measurements to put in a CoRIM (configure them first)',
    );
    expect(() => encodePolicy({ ...tdxDoc, measurements: [{ name: 'rtmr2', digest: Buffer.alloc(20) }] }, { format: 'corim' })).toThrow(
      'reference measurement rtmr2 is 20 bytes: expected a SHA-256, SHA-384 or SHA-512 digest (32, 48 or 64 bytes)',
    );
  });

  it('json format is the upstream JSON document, never CBOR, whatever the key', () => {
    const { privateKey } = ecKey('prime256v1');
    const bytes = encodePolicy(snpDoc, { format: 'json', signingKey: corimSigningKey(privateKey) });
    expect(Buffer.from(bytes).equals(Buffer.from(policyJsonBytes(snpDoc)))).toBe(true);
    expect(JSON.parse(Buffer.from(bytes).toString('utf8'))).toEqual(snpDoc.json);
  });

  it('python sees the same measurement key for a name as RFC 4122 uuid5 computes it', () => {
    const expected = execFileSync('/usr/bin/python3', ['-c', 'import uuid; print(uuid.uuid5(uuid.NAMESPACE_URL, "urn:cocos-manager:measurement:mrtd"))'], {
      encoding: 'utf8',
    }).trim();
    expect(decoded(encodePolicy(tdxDoc, { format: 'corim' })).measurements[0]!.key).toBe(expected);
  });
});

describe('attestation settings', () => {
  const load = (env: Record<string, string>) =>
    loadManagerConfig([{ owner: '@cocos-manager/core', slice: attestationSettings }], env).read(attestationSettings).attestation;
  it('defaults to CoRIM with the signer name left to the instance id; json is accepted; anything else is a one-line error', () => {
    expect(load({})).toEqual({ policyFormat: 'corim', corimSignerName: '' });
    expect(load({ MANAGER_ATTESTATION_POLICY_FORMAT: 'json', MANAGER_CORIM_SIGNER_NAME: 'eu-west-manager' })).toEqual({
      policyFormat: 'json',
      corimSignerName: 'eu-west-manager',
    });
    expect(() => load({ MANAGER_ATTESTATION_POLICY_FORMAT: 'cbor' })).toThrow(/^MANAGER_ATTESTATION_POLICY_FORMAT="cbor".*one of corim, json/);
  });
});
