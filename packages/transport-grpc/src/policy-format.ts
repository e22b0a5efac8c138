import { ATTESTATION_POLICY_FORMATS, ManagerError, type AttestationPolicyFormat } from '@cocos-manager/core';
import type { MetadataValue } from '@grpc/grpc-js';

/** The policy format a client asked for in its metadata; undefined: the manager's default. */
export function policyFormatFrom(value: MetadataValue | undefined): AttestationPolicyFormat | undefined {
  if (value === undefined) return undefined;
  const text = value.toString();
  const known = ATTESTATION_POLICY_FORMATS.find((f) => f === text);
  if (!known) throw new ManagerError('POLICY_FORMAT_UNKNOWN', `policy format "${text.slice(0, 40)}" is not one of ${ATTESTATION_POLICY_FORMATS.join(', ')}`);
  return known;
}
