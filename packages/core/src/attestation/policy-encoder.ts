import { coreSettings } from '../config/core-settings.js';
import type { ManagerConfig } from '../config/manager-config.js';
import type { AttestationPolicyDocument } from '../api/attestation-policy.js';
import type { PolicyEncoder } from '../api/policy-encoder.js';
import { attestationSettings, type AttestationPolicyFormat } from './attestation-settings.js';

export type { PolicyEncoder };
import { CORIM_CONTENT_TYPE, loadCorimSigningKey, type CorimSigningKey } from './cose-sign1.js';
import { encodePolicy } from './corim.js';

/**
 * The configured encoding: CoRIM by default (COSE_Sign1-signed when
 * MANAGER_CORIM_SIGNING_KEY is set, on behalf of MANAGER_CORIM_SIGNER_NAME or
 * the instance id), or the JSON policy. The key is read and checked once, at
 * start: a bad key stops the manager with one line.
 */
export class ConfiguredPolicyEncoder implements PolicyEncoder {
  readonly defaultFormat: AttestationPolicyFormat;
  private readonly signingKey: CorimSigningKey | null;
  private readonly signerName: string;

  constructor(config: ManagerConfig, instanceId: string) {
    const { policyFormat, corimSignerName } = config.read(attestationSettings).attestation;
    const keyFile = config.read(coreSettings).attestation.corimSigningKey;
    this.defaultFormat = policyFormat;
    this.signingKey = keyFile === '' ? null : loadCorimSigningKey(keyFile);
    this.signerName = corimSignerName || instanceId;
  }

  encode(doc: AttestationPolicyDocument, format: AttestationPolicyFormat = this.defaultFormat): Uint8Array {
    return encodePolicy(doc, { format, signingKey: this.signingKey, signerName: this.signerName });
  }

  contentType(format: AttestationPolicyFormat = this.defaultFormat): string {
    if (format === 'json') return 'application/json';
    return this.signingKey ? 'application/rim+cose' : CORIM_CONTENT_TYPE;
  }
}
