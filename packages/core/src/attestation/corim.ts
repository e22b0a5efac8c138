import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Encoder, Tag } from 'cbor-x';
import type { AttestationPolicyDocument } from '../api/attestation-policy.js';
import { ConfigError } from '../config/manager-config.js';
import { ManagerError } from '../errors.js';

/** CBOR tags and keys of draft-ietf-rats-corim and RFC 9052 (COSE). */
const TAG_COSE_SIGN1 = 18;
const TAG_UNSIGNED_CORIM = 501;
const TAG_COMID = 506;
/** COSE / IANA hash algorithm id of SHA-384 (named-information registry). */
export const SHA384_ALG_ID = 7;
const COSE_ALG = { ES256: -7, ES384: -35 } as const;
const CORIM_CONTENT_TYPE = 'application/rim+cbor';

// Maps with integer keys must stay maps (not objects) in CBOR.
const cbor = new Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false });

/**
 * The CoMID of a policy: one reference triple for the TEE environment the
 * backend declared (its vendor and model), whose measurements are every
 * measurement the policy actually carries, each as a SHA-384 digest
 * (algorithm id 7).
 */
function comid(doc: AttestationPolicyDocument): Map<number, unknown> {
  if (doc.measurements.length === 0) {
    throw ManagerError.failedPrecondition(`the ${doc.tee} policy has no reference measurements to put in a CoRIM (configure them first)`);
  }
  const { vendor, model } = doc.environment;
  const environment = new Map([[0, new Map<number, string>([[1, vendor], [2, model]])]]);
  const measurements = doc.measurements.map(
    (m) =>
      new Map<number, unknown>([
        [0, m.name],
        [1, new Map([[2, [[SHA384_ALG_ID, Buffer.from(m.digest)]]]])],
      ]),
  );
  return new Map<number, unknown>([
    [1, new Map([[0, randomUUID()]])],
    [4, new Map([[0, [[environment, measurements]]]])],
  ]);
}

function unsignedCorim(doc: AttestationPolicyDocument): Tag {
  const tagged = new Tag(comid(doc), TAG_COMID);
  return new Tag(
    new Map<number, unknown>([
      [0, `cocos-manager-${doc.tee}-${randomUUID()}`],
      [1, [cbor.encode(tagged)]],
    ]),
    TAG_UNSIGNED_CORIM,
  );
}

async function loadSigningKey(file: string): Promise<{ key: KeyObject; alg: number; hash: 'sha256' | 'sha384' }> {
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(file));
  } catch (err) {
    throw new ConfigError(`MANAGER_CORIM_SIGNING_KEY=${JSON.stringify(file)}: expected a readable PEM EC private key (${(err as Error).message})`);
  }
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  if (curve === 'prime256v1') return { key, alg: COSE_ALG.ES256, hash: 'sha256' };
  if (curve === 'secp384r1') return { key, alg: COSE_ALG.ES384, hash: 'sha384' };
  throw new ConfigError(`MANAGER_CORIM_SIGNING_KEY=${JSON.stringify(file)}: expected an EC key on P-256 (ES256) or P-384 (ES384), got ${key.asymmetricKeyType}${curve ? ` ${curve}` : ''}`);
}

/**
 * The policy as a CoRIM: CBOR, tagged unsigned-corim (501) holding one CoMID
 * (506); wrapped in a COSE_Sign1 (18) signed with the key file when one is
 * given.
 */
export async function buildCorim(doc: AttestationPolicyDocument, signingKeyFile = ''): Promise<Buffer> {
  const corim = unsignedCorim(doc);
  if (signingKeyFile === '') return Buffer.from(cbor.encode(corim));
  const { key, alg, hash } = await loadSigningKey(signingKeyFile);
  const payload = cbor.encode(corim);
  const protectedHeader = cbor.encode(new Map<number, unknown>([[1, alg], [3, CORIM_CONTENT_TYPE]]));
  const toBeSigned = cbor.encode(['Signature1', protectedHeader, Buffer.alloc(0), payload]);
  const signature = sign(hash, toBeSigned, { key, dsaEncoding: 'ieee-p1363' });
  return Buffer.from(cbor.encode(new Tag([protectedHeader, new Map(), payload, signature], TAG_COSE_SIGN1)));
}
