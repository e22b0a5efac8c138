import { emptyCreateVmRequest, type CreateVmRequest } from '@cocos-manager/core';
import type { AgentConfig, ComputationRunReq } from '@cocos-manager/contract';

/** Where a VM's certs share puts the files (the paths the environment file names, §4.2). */
export const GUEST_CERT_PATHS = { cert: '/etc/certs/cert.pem', key: '/etc/certs/key.pem', ca: '/etc/certs/ca.pem' } as const;

const isPem = (text: string) => /^\s*-----BEGIN [A-Z0-9 ]+-----/.test(text);
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

/** The agent config of a run, with its PEM fields moved to the certs share: what the VM and its manifest get. */
export interface PlacedAgentConfig {
  readonly create: Pick<CreateVmRequest, 'agentLogLevel' | 'agentCvmClientCert' | 'agentCvmClientKey' | 'agentCvmServerCaCert'>;
  readonly manifest: AgentConfig;
}

/**
 * Where the agent config's TLS material goes. A field holding PEM text (the
 * certificate, key or CAs themselves) is handed to the VM on its certs share
 * (cert.pem, key.pem, ca.pem: the CreateReq fields agent_cvm_client_cert,
 * _key, _server_ca_cert) and the manifest names the file's path in the
 * guest; a field holding anything else (a path in the guest image) stays in
 * the manifest as it is. The two CA fields share ca.pem: both PEM, it holds
 * the client CAs then the server CAs. The log level goes to the VM's
 * environment (AGENT_LOG_LEVEL) and stays in the manifest.
 */
export function placeAgentConfig(config: AgentConfig | null): PlacedAgentConfig {
  const given: AgentConfig = config ?? {
    port: '',
    host: '',
    cert_file: '',
    key_file: '',
    client_ca_file: '',
    server_ca_file: '',
    log_level: '',
    attested_tls: false,
  };
  const cas = [given.client_ca_file, given.server_ca_file].filter(isPem);
  const manifest: AgentConfig = {
    ...given,
    cert_file: isPem(given.cert_file) ? GUEST_CERT_PATHS.cert : given.cert_file,
    key_file: isPem(given.key_file) ? GUEST_CERT_PATHS.key : given.key_file,
    client_ca_file: isPem(given.client_ca_file) ? GUEST_CERT_PATHS.ca : given.client_ca_file,
    server_ca_file: isPem(given.server_ca_file) ? GUEST_CERT_PATHS.ca : given.server_ca_file,
  };
  return {
    create: {
      agentLogLevel: given.log_level,
      agentCvmClientCert: isPem(given.cert_file) ? bytes(given.cert_file) : new Uint8Array(),
      agentCvmClientKey: isPem(given.key_file) ? bytes(given.key_file) : new Uint8Array(),
      agentCvmServerCaCert: cas.length > 0 ? bytes(cas.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('')) : new Uint8Array(),
    },
    manifest,
  };
}

/** The CreateVm request of a run: its agent config's log level and TLS material, nothing else (no TTL, no CVMS, no AWS). */
export function createRequestOf(run: ComputationRunReq): CreateVmRequest {
  return emptyCreateVmRequest(placeAgentConfig(run.agent_config).create);
}

const b64 = (data: Uint8Array) => Buffer.from(data).toString('base64');
/** A sha3-256 as the Go agent's `[32]byte` decodes from JSON: an array of byte values. */
const byteArray = (data: Uint8Array) => [...data];

/**
 * The computation manifest the agent gets (JSON, written once), in the shape
 * of the seeds/002 agent's Computation: `id` first, hashes as arrays of byte
 * values, user keys base64 (Go's []byte), the agent config with its PEM
 * fields replaced by their paths on the certs share (placeAgentConfig).
 */
export function manifestOf(run: ComputationRunReq): Buffer {
  const manifest = {
    id: run.id,
    name: run.name,
    description: run.description,
    datasets: run.datasets.map((d) => ({ hash: byteArray(d.hash), user_key: b64(d.userKey), filename: d.filename })),
    algorithm: run.algorithm ? { hash: byteArray(run.algorithm.hash), user_key: b64(run.algorithm.userKey) } : null,
    result_consumers: run.result_consumers.map((c) => ({ user_key: b64(c.userKey) })),
    agent_config: placeAgentConfig(run.agent_config).manifest,
  };
  return Buffer.from(JSON.stringify(manifest), 'utf8');
}
