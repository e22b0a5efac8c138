import { parsePolicyFormat, type AttestationPolicyFormat } from '@cocos-manager/core';
import type { MetadataValue } from '@grpc/grpc-js';

/** The policy format a client asked for in its metadata; undefined: the manager's default. */
export function policyFormatFrom(value: MetadataValue | undefined): AttestationPolicyFormat | undefined {
  return value === undefined ? undefined : parsePolicyFormat(value.toString(), 'policy format');
}
