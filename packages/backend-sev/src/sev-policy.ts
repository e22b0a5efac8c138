import type { AttestationPolicyDocument, ReferenceMeasurement } from '@cocos-manager/core';

export interface SevPolicyInputs {
  /** The SHA-256 launch measurement. */
  readonly measurement: Buffer;
  readonly policy: number;
  readonly es: boolean;
  /** SEV-ES: the VMSAs measured. */
  readonly vcpus: number;
  readonly vcpuType: string;
  readonly kernelHashes: boolean;
  /** The OVMF file the guest boots, and its sha256. */
  readonly firmwareFile: string;
  readonly firmwareSha256: Buffer;
}

/** The environment SEV reference values describe, as CoRIM classifies it. */
export const SEV_ENVIRONMENT = { vendor: 'AMD', model: 'SEV' } as const;
export const SEV_ES_ENVIRONMENT = { vendor: 'AMD', model: 'SEV-ES' } as const;

/**
 * The SEV / SEV-ES policy (shape in the README): what a verifier compares
 * with LAUNCH_MEASURE (the measurement and the guest policy) and which
 * firmware it came from. Bytes as hex, as sev-snp-measure prints them.
 */
export function buildSevPolicy(inputs: SevPolicyInputs): AttestationPolicyDocument {
  const json = {
    policy: {
      sevEs: inputs.es,
      policy: inputs.policy,
      measurement: inputs.measurement.toString('hex'),
      kernelHashes: inputs.kernelHashes,
      ...(inputs.es ? { vcpus: inputs.vcpus, vcpuType: inputs.vcpuType } : {}),
    },
    firmware: { file: inputs.firmwareFile, sha256: inputs.firmwareSha256.toString('hex') },
  };
  const measurements: ReferenceMeasurement[] = [
    { name: 'launch-measurement', digest: inputs.measurement },
    { name: 'firmware', digest: inputs.firmwareSha256 },
  ];
  return { tee: 'sev', environment: inputs.es ? SEV_ES_ENVIRONMENT : SEV_ENVIRONMENT, json, measurements };
}
