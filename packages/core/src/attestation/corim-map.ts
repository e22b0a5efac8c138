import { createRequire } from 'node:module';
import type { Encoder, Tag as CborTag } from 'cbor-x';
import type { AttestationPolicyDocument, ReferenceMeasurement } from '../api/attestation-policy.js';
import { ManagerError } from '../errors.js';
import { nodeCrypto } from '../node-builtins.js';

const { createHash, randomUUID } = nodeCrypto;

/*
 * The unsigned CoRIM of a policy, laid out as draft-ietf-rats-corim and
 * veraison/corim v1.1.x (upstream's verifier library) decode it:
 *
 *   corim-map    = { 0: corim-id (tstr), 1: [+ bstr .cbor tagged-concise-mid-tag] }
 *   comid        = 506({ 1: { 0: tag-id (tstr) }, 4: { 0: [+ reference-triple] } })
 *   ref-triple   = [ environment-map, [+ measurement-map] ]
 *   environment  = { 0: class-map { 1: vendor, 2: model } }
 *   measurement  = { 0: 37(uuid bytes), 1: { 2: [[hash-alg-id, digest bytes]] } }
 *
 * The corim-map goes out untagged, as upstream's generator writes it;
 * veraison's UnsignedCorim.FromCBOR skips a leading tag when there is one
 * and takes the map either way. Each tag of the list is a byte string that
 * starts with the three bytes of tag 506 (d9 01 fa): upstream's verifiers
 * look for exactly that prefix before decoding the CoMID.
 */

/** CBOR tags (draft-ietf-rats-corim, RFC 9562 via RFC 8949's registry). */
const TAG_COMID = 506;
const TAG_UUID = 37;

/** IANA "Named Information Hash Algorithm" ids, by digest length in bytes. */
export const HASH_ALG_IDS = { sha256: 1, sha384: 7, sha512: 8 } as const;
const HASH_ALG_BY_LENGTH = new Map<number, number>([
  [32, HASH_ALG_IDS.sha256],
  [48, HASH_ALG_IDS.sha384],
  [64, HASH_ALG_IDS.sha512],
]);

/**
 * Measurement keys: veraison decodes an untagged key as a uint and our
 * measurements have names, so each key is the name-based (version 5) UUID of
 * `urn:cocos-manager:measurement:<name>` in the RFC 4122 URL namespace —
 * stable across policies, and computable by a verifier that knows the name.
 */
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';
export const MEASUREMENT_KEY_PREFIX = 'urn:cocos-manager:measurement:';

interface CborCodec {
  readonly encoder: Encoder;
  readonly Tag: typeof CborTag;
}
let codec: CborCodec | null = null;

/**
 * cbor-x, loaded at the first CoRIM: a manager that is never asked for one
 * does not carry it (idle memory, BENCHMARKS.md #5a). Loaded synchronously
 * (its CommonJS build) so that encoding stays a synchronous function call.
 */
export function cbor(): CborCodec {
  if (!codec) {
    const lib = createRequire(import.meta.url)('cbor-x') as typeof import('cbor-x');
    // Maps with integer keys must stay maps (not objects) in CBOR; bytes stay untagged byte strings.
    codec = { encoder: new lib.Encoder({ mapsAsObjects: false, useRecords: false, tagUint8Array: false }), Tag: lib.Tag };
  }
  return codec;
}

/** RFC 4122 §4.3 name-based UUID with SHA-1 (version 5), as 16 bytes. */
export function uuidV5(namespace: string, name: string): Buffer {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return Buffer.from(bytes);
}

export function measurementKey(name: string): Buffer {
  return uuidV5(NAMESPACE_URL, `${MEASUREMENT_KEY_PREFIX}${name}`);
}

/** The hash algorithm id a digest of this length is reported with. */
export function hashAlgIdFor(m: ReferenceMeasurement): number {
  const id = HASH_ALG_BY_LENGTH.get(m.digest.length);
  if (id === undefined) {
    throw new ManagerError(
      'POLICY_WITHOUT_MEASUREMENTS',
      `reference measurement ${m.name} is ${m.digest.length} bytes: expected a SHA-256, SHA-384 or SHA-512 digest (32, 48 or 64 bytes)`,
    );
  }
  return id;
}

function measurementMap(m: ReferenceMeasurement): Map<number, unknown> {
  const { Tag } = cbor();
  const digests = [[hashAlgIdFor(m), Buffer.from(m.digest)]];
  return new Map<number, unknown>([
    [0, new Tag(measurementKey(m.name), TAG_UUID)],
    [1, new Map([[2, digests]])],
  ]);
}

/** The CoMID (before tagging): one reference-value triple for the backend's environment. */
function comidMap(doc: AttestationPolicyDocument): Map<number, unknown> {
  if (doc.measurements.length === 0) {
    throw new ManagerError('POLICY_WITHOUT_MEASUREMENTS', `the ${doc.tee} policy has no reference measurements to put in a CoRIM (configure them first)`);
  }
  const { vendor, model } = doc.environment;
  const classMap = new Map<number, string>([
    [1, vendor],
    [2, model],
  ]);
  const environment = new Map([[0, classMap]]);
  const triple = [environment, doc.measurements.map(measurementMap)];
  return new Map<number, unknown>([
    [1, new Map([[0, `${doc.tee}-tag-${randomUUID()}`]])],
    [4, new Map([[0, [triple]]])],
  ]);
}

/** The unsigned corim-map of a policy, CBOR-encoded (the COSE payload when signed). */
export function encodeUnsignedCorim(doc: AttestationPolicyDocument): Uint8Array {
  const { encoder, Tag } = cbor();
  // Copies: cbor-x may hand back a view of a buffer it reuses for the next encode.
  const taggedComid = Buffer.from(encoder.encode(new Tag(comidMap(doc), TAG_COMID)));
  return Buffer.from(
    encoder.encode(
      new Map<number, unknown>([
        [0, `${doc.tee}-corim-${randomUUID()}`],
        [1, [taggedComid]],
      ]),
    ),
  );
}
