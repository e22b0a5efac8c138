import type { AttestationPolicyDocument, ReferenceMeasurement } from '@cocos-manager/core';
import type { PcrValues } from './pcr-values.js';

export type SnpProductLine = 'Milan' | 'Genoa' | 'Turin';

export interface SnpPolicyInputs {
  readonly measurement: Buffer;
  readonly hostData: Buffer | null;
  /** The guest policy word, decimal. */
  readonly policy: string;
  readonly minimumLaunchTcb: string;
  readonly vmpl: number;
  readonly product: SnpProductLine;
  readonly pcrValues: PcrValues | null;
}

const b64 = (bytes: Buffer) => bytes.toString('base64');

/** The environment SNP reference values describe, as CoRIM classifies it. */
export const SNP_ENVIRONMENT = { vendor: 'AMD', model: 'SEV-SNP' } as const;

/**
 * The SNP policy in the shape upstream produces (go-sev-guest's check.Config
 * in protojson: camelCase keys, bytes as base64, 64-bit words as strings),
 * plus upstream's `pcr_values` section for the vTPM.
 */
export function buildSnpPolicy(inputs: SnpPolicyInputs): AttestationPolicyDocument {
  const policy: Record<string, unknown> = {
    minimumGuestSvn: 0,
    policy: inputs.policy,
    familyId: b64(Buffer.alloc(16)),
    imageId: b64(Buffer.alloc(16)),
    vmpl: inputs.vmpl,
    minimumTcb: '0',
    minimumLaunchTcb: inputs.minimumLaunchTcb,
    requireAuthorKey: false,
    measurement: b64(inputs.measurement),
    ...(inputs.hostData ? { hostData: b64(inputs.hostData) } : {}),
    reportIdMa: b64(Buffer.alloc(32, 0xff)),
    requireIdBlock: false,
    product: { name: `SEV_PRODUCT_${inputs.product.toUpperCase()}` },
  };
  const json: Record<string, unknown> = {
    policy,
    rootOfTrust: { product: inputs.product, productLine: inputs.product, checkCrl: true, disallowNetwork: false },
  };
  const measurements: ReferenceMeasurement[] = [{ name: 'launch-measurement', digest: inputs.measurement }];
  if (inputs.pcrValues) {
    json['pcr_values'] = inputs.pcrValues;
    for (const [index, hex] of Object.entries(inputs.pcrValues.sha384)) measurements.push({ name: `pcr${index}`, digest: Buffer.from(hex, 'hex') });
  }
  return { tee: 'sev-snp', environment: SNP_ENVIRONMENT, json, measurements };
}
