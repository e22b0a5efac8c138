import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/manager-config.js';
import { cbor } from './corim-map.js';
import { nodeCrypto } from '../node-builtins.js';

const { createPrivateKey, sign } = nodeCrypto;

/*
 * A signed CoRIM is a COSE_Sign1 (RFC 9052), tag 18, as veraison/corim's
 * SignedCorim.FromCOSE reads it: the protected header (a byte string holding
 * a CBOR map) must carry the algorithm (label 1), the content type (label 3)
 * `application/rim+cbor` and the corim-meta (label 8) — itself a byte string
 * holding the CBOR map { 0: signer-map { 0: name } }. The payload is the
 * unsigned corim-map; the signature is ECDSA over
 * Sig_structure = ["Signature1", protected, h'', payload], r||s raw.
 */

const TAG_COSE_SIGN1 = 18;
const HEADER_ALG = 1;
const HEADER_CONTENT_TYPE = 3;
const HEADER_CORIM_META = 8;
export const CORIM_CONTENT_TYPE = 'application/rim+cbor';
/** COSE algorithm ids (IANA COSE Algorithms registry). */
export const COSE_ALG = { ES256: -7, ES384: -35 } as const;

/** A private key checked to be one a CoRIM can be signed with, and how. */
export interface CorimSigningKey {
  readonly key: KeyObject;
  /** COSE algorithm id for the protected header. */
  readonly alg: number;
  /** The digest ECDSA signs with on this curve. */
  readonly hash: 'sha256' | 'sha384';
}

const source = (file: string) => `MANAGER_CORIM_SIGNING_KEY=${JSON.stringify(file)}`;

/** Which COSE algorithm a key signs with: ES256 on P-256, ES384 on P-384; anything else is refused. */
export function corimSigningKey(key: KeyObject, from = 'the CoRIM signing key'): CorimSigningKey {
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  if (key.type === 'private' && curve === 'prime256v1') return { key, alg: COSE_ALG.ES256, hash: 'sha256' };
  if (key.type === 'private' && curve === 'secp384r1') return { key, alg: COSE_ALG.ES384, hash: 'sha384' };
  const got = key.type !== 'private' ? `a ${key.type} key` : `${key.asymmetricKeyType}${curve ? ` ${curve}` : ''}`;
  throw new ConfigError(`${from}: expected an EC key on P-256 (ES256) or P-384 (ES384), got ${got}`);
}

/** Reads and checks the PEM (or DER PKCS#8) private key file MANAGER_CORIM_SIGNING_KEY names. */
export function loadCorimSigningKey(file: string): CorimSigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file));
  } catch (err) {
    throw new ConfigError(`${source(file)}: expected a readable PEM EC private key (${(err as Error).message})`);
  }
  return corimSigningKey(key, source(file));
}

/** Wraps an encoded unsigned corim-map in a COSE_Sign1 signed by `signer` on behalf of `signerName`. */
export function signCorim(payload: Uint8Array, signer: CorimSigningKey, signerName: string): Uint8Array {
  if (signerName === '') throw new ConfigError('MANAGER_CORIM_SIGNER_NAME: a signed CoRIM needs a non-empty signer name for its corim-meta');
  const { encoder, Tag } = cbor();
  const meta = Buffer.from(encoder.encode(new Map([[0, new Map([[0, signerName]])]])));
  const protectedHeader = Buffer.from(
    encoder.encode(
      new Map<number, unknown>([
        [HEADER_ALG, signer.alg],
        [HEADER_CONTENT_TYPE, CORIM_CONTENT_TYPE],
        [HEADER_CORIM_META, meta],
      ]),
    ),
  );
  const body = Buffer.from(payload);
  const toBeSigned = Buffer.from(encoder.encode(['Signature1', protectedHeader, Buffer.alloc(0), body]));
  const signature = sign(signer.hash, toBeSigned, { key: signer.key, dsaEncoding: 'ieee-p1363' });
  return Buffer.from(encoder.encode(new Tag([protectedHeader, new Map(), body, signature], TAG_COSE_SIGN1)));
}
