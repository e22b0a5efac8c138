import { policyJsonBytes, type AttestationPolicyDocument } from '../api/attestation-policy.js';
import type { AttestationPolicyFormat } from './attestation-settings.js';
import { loadCorimSigningKey, signCorim, type CorimSigningKey } from './cose-sign1.js';
import { encodeUnsignedCorim } from './corim-map.js';

export { ATTESTATION_POLICY_FORMATS, attestationSettings, type AttestationPolicyFormat } from './attestation-settings.js';
export { CORIM_CONTENT_TYPE, COSE_ALG, corimSigningKey, loadCorimSigningKey, type CorimSigningKey } from './cose-sign1.js';
export { HASH_ALG_IDS, MEASUREMENT_KEY_PREFIX, measurementKey } from './corim-map.js';

/** The signer name of CoRIMs signed without one configured (callers pass the instance id). */
const FALLBACK_SIGNER_NAME = 'cocos-manager';

export interface EncodePolicyOptions {
  /** `corim` (CBOR CoRIM) or `json` (the upstream check-config shape). */
  readonly format: AttestationPolicyFormat;
  /**
   * Signs the CoRIM as COSE_Sign1 when given: a checked key, or the path of
   * a PEM private key file (read now). Empty or absent: unsigned. Ignored
   * for `json`.
   */
  readonly signingKey?: CorimSigningKey | string | null;
  /** The corim-meta signer name: MANAGER_CORIM_SIGNER_NAME, else the manager's instance id. */
  readonly signerName?: string;
}

/**
 * A policy as the AttestationPolicy RPC answers with it: the JSON document,
 * or a CoRIM — the unsigned corim-map, or a COSE_Sign1 over it when a
 * signing key is given.
 */
export function encodePolicy(doc: AttestationPolicyDocument, options: EncodePolicyOptions): Uint8Array {
  if (options.format === 'json') return policyJsonBytes(doc);
  const unsigned = encodeUnsignedCorim(doc);
  const { signingKey } = options;
  if (signingKey === undefined || signingKey === null || signingKey === '') return unsigned;
  const signer = typeof signingKey === 'string' ? loadCorimSigningKey(signingKey) : signingKey;
  return signCorim(unsigned, signer, options.signerName || FALLBACK_SIGNER_NAME);
}
