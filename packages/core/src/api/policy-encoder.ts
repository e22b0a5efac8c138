import type { AttestationPolicyDocument } from './attestation-policy.js';

/** The wire formats the AttestationPolicy RPC can answer with. */
export const ATTESTATION_POLICY_FORMATS = ['corim', 'json'] as const;
export type AttestationPolicyFormat = (typeof ATTESTATION_POLICY_FORMATS)[number];

/** Turns a policy document into what clients receive (POLICY_ENCODER token). */
export interface PolicyEncoder {
  /** MANAGER_ATTESTATION_POLICY_FORMAT: what a request that names no format gets. */
  readonly defaultFormat: AttestationPolicyFormat;
  encode(doc: AttestationPolicyDocument, format?: AttestationPolicyFormat): Uint8Array;
  /** The media type of `encode`'s bytes in that format. */
  contentType(format?: AttestationPolicyFormat): string;
}
