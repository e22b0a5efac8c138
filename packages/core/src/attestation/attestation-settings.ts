import * as f from '../config/formats.js';
import { setting } from '../api/settings.js';
import { ATTESTATION_POLICY_FORMATS, type AttestationPolicyFormat } from '../api/policy-encoder.js';

export { ATTESTATION_POLICY_FORMATS, type AttestationPolicyFormat };

/**
 * How attestation policies go on the wire. The signing key itself
 * (MANAGER_CORIM_SIGNING_KEY, `attestation.corimSigningKey`) is declared with
 * core's settings; these keys sit next to it under `attestation`.
 */
export const attestationSettings = {
  attestation: {
    policyFormat: setting({
      env: 'MANAGER_ATTESTATION_POLICY_FORMAT',
      doc: 'What AttestationPolicy answers with by default: corim (CBOR CoRIM, as the Go manager since its CoRIM change; COSE_Sign1-signed when MANAGER_CORIM_SIGNING_KEY is set) or json (the upstream JSON policy: the check configuration of the Go attestation libraries, with pcr_values). A request may ask for the other one.',
      default: 'corim',
      format: f.oneOf(ATTESTATION_POLICY_FORMATS),
    }),
    corimSignerName: setting({
      env: 'MANAGER_CORIM_SIGNER_NAME',
      doc: "Signer name in the corim-meta header (COSE label 8) of signed CoRIMs. Empty: this manager's instance id (MANAGER_INSTANCE_ID, or the one generated at start).",
      default: '',
      format: f.text,
    }),
  },
};
