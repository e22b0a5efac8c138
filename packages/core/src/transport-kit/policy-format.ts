import { ATTESTATION_POLICY_FORMATS, type AttestationPolicyFormat } from '../api/policy-encoder.js';
import { ManagerError } from '../errors.js';

/**
 * The attestation policy format a client asked for (gRPC metadata
 * `cocos-policy-format`, HTTP `?format=`), for every transport the same:
 * absent or empty is the manager's default (undefined), anything but a known
 * format is POLICY_FORMAT_UNKNOWN naming `what` the client sent.
 */
export function parsePolicyFormat(value: string | undefined, what: string): AttestationPolicyFormat | undefined {
  if (value === undefined || value === '') return undefined;
  const known = ATTESTATION_POLICY_FORMATS.find((f) => f === value);
  if (!known) throw new ManagerError('POLICY_FORMAT_UNKNOWN', `${what} "${value.slice(0, 40)}" is not one of ${ATTESTATION_POLICY_FORMATS.join(', ')}`);
  return known;
}
