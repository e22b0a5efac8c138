/**
 * gRPC metadata keys of our own extensions. The four upstream RPCs keep their
 * exact messages; what a client of ours may add travels out of band.
 */

/** `corim` or `json`: the format AttestationPolicy answers with (default: the manager's MANAGER_ATTESTATION_POLICY_FORMAT). */
export const POLICY_FORMAT_METADATA = 'cocos-policy-format';
