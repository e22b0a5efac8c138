/** One reference value a verifier compares against the TEE's evidence. */
export interface ReferenceMeasurement {
  /** What it measures: `launch-measurement` (SNP), `mrtd`, `rtmr0`…, `pcr4`… */
  readonly name: string;
  /** The digest as the TEE reports it (SHA-384 for SNP and TDX measurements). */
  readonly digest: Uint8Array;
}

/** A backend's attestation policy for one VM, before serialization. */
export interface AttestationPolicyDocument {
  /** The TEE kind: `sev-snp`, `tdx`, or a third party's. */
  readonly tee: string;
  /** The policy in the upstream JSON shape (bytes already base64). */
  readonly json: unknown;
  /** The measurements actually present, for CoRIM. */
  readonly measurements: readonly ReferenceMeasurement[];
}

/** The JSON bytes the AttestationPolicy RPC answers with. */
export function policyJsonBytes(doc: AttestationPolicyDocument): Uint8Array {
  return Buffer.from(`${JSON.stringify(doc.json, null, 2)}\n`);
}
