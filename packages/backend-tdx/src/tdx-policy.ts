import { ConfigError, type AttestationPolicyDocument, type ReferenceMeasurement } from '@cocos-manager/core';

export interface TdxPolicyInputs {
  readonly mrSeam: string;
  readonly tdAttributes: string;
  readonly xfam: string;
  readonly mrTd: string;
  /** RTMR[0..3]; empty strings for unset registers. */
  readonly rtmrs: readonly [string, string, string, string];
}

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');

/** The environment TDX reference values describe, as CoRIM classifies it. */
export const TDX_ENVIRONMENT = { vendor: 'Intel', model: 'TDX' } as const;

/**
 * The TDX policy in upstream's shape (go-tdx-guest's check config in
 * protojson: `rootOfTrust` and `policy.tdQuoteBodyPolicy`, bytes as base64).
 * Only the values configured are present: a verifier checks what is there.
 */
export function buildTdxPolicy(inputs: TdxPolicyInputs): AttestationPolicyDocument {
  const body: Record<string, unknown> = {};
  const measurements: ReferenceMeasurement[] = [];
  const put = (key: string, hex: string, name?: string) => {
    if (hex === '') return;
    body[key] = b64(hex);
    if (name) measurements.push({ name, digest: Buffer.from(hex, 'hex') });
  };
  put('mrSeam', inputs.mrSeam, 'mrseam');
  put('tdAttributes', inputs.tdAttributes);
  put('xfam', inputs.xfam);
  put('mrTd', inputs.mrTd, 'mrtd');
  if (inputs.rtmrs.some((r) => r !== '')) {
    // The policy lists RTMRs by position, so it takes all four or none.
    const missing = inputs.rtmrs.map((r, i) => (r === '' ? `MANAGER_RTMR${i}` : null)).filter((m) => m !== null);
    if (missing.length > 0) throw new ConfigError(`${missing.join(', ')} not set: the TDX policy takes all four RTMRs or none`);
    body['rtmrs'] = inputs.rtmrs.map(b64);
    inputs.rtmrs.forEach((r, i) => measurements.push({ name: `rtmr${i}`, digest: Buffer.from(r, 'hex') }));
  }
  const json = {
    rootOfTrust: { checkCrl: true, getCollateral: true },
    policy: { headerPolicy: {}, tdQuoteBodyPolicy: body },
  };
  return { tee: 'tdx', environment: TDX_ENVIRONMENT, json, measurements };
}
