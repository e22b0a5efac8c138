/** One reference value a verifier compares against the TEE's evidence. */
export interface ReferenceMeasurement {
  /** What it measures, in the backend's terms (`launch-measurement`, `mrtd`, `pcr4`…). */
  readonly name: string;
  /** The digest as the TEE reports it (SHA-384 for the measurements CoRIM carries). */
  readonly digest: Uint8Array;
}

/** The TEE environment a CoRIM's reference values apply to (its CoMID class). */
export interface TeeEnvironmentClass {
  /** The hardware vendor (`vendor`, CoMID class key 1). */
  readonly vendor: string;
  /** The TEE technology (`model`, CoMID class key 2). */
  readonly model: string;
}

/** A backend's attestation policy for one VM, before serialization. */
export interface AttestationPolicyDocument {
  /** The TEE kind: the name of the backend that produced it. */
  readonly tee: string;
  /** Which environment the measurements describe, as a verifier classifies it. */
  readonly environment: TeeEnvironmentClass;
  /** The policy in the upstream JSON shape (bytes already base64). */
  readonly json: unknown;
  /** The measurements actually present, for CoRIM. */
  readonly measurements: readonly ReferenceMeasurement[];
}

/** The JSON bytes the AttestationPolicy RPC answers with. */
export function policyJsonBytes(doc: AttestationPolicyDocument): Uint8Array {
  return Buffer.from(`${JSON.stringify(doc.json, null, 2)}\n`);
}
