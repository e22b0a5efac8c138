import type { CreateVmRequest } from './vm-types.js';

/** Where a field goes in the guest's environment file: its variable, and in which order the lines are written. */
export interface GuestEnvironmentLine {
  readonly variable: string;
  readonly order: number;
  /** `value`: the field's text, written even when empty; `value-if-set`: only when not empty; `guest-path`: the path its PEM file has in the guest, when one was given. */
  readonly write: 'value' | 'value-if-set' | { readonly guestPath: string };
}

/** One CreateReq field: how every part of the manager handles it. */
export interface CreateRequestField {
  /** Its name in CreateVmRequest. */
  readonly key: keyof CreateVmRequest;
  /** Its name on the wire (CreateReq, the REST body, the OpenAPI schema). */
  readonly wire: string;
  /** `text` (UTF-8, bounded, printable) or `pem` (bytes: a PEM file, base64 in JSON). */
  readonly kind: 'text' | 'pem';
  /** A credential: redacted wherever it could be logged. */
  readonly secret: boolean;
  readonly env?: GuestEnvironmentLine;
}

/** Where the guest finds the PEM files of the certs share. */
export const GUEST_CERT_PATHS = {
  cert: '/etc/certs/cert.pem',
  key: '/etc/certs/key.pem',
  ca: '/etc/certs/ca.pem',
} as const;

/** The variable the guest's environment file carries the VM id in (no request field: the manager's). */
export const GUEST_ID_VARIABLE = { variable: 'AGENT_CVM_ID', order: 3 } as const;

/**
 * CreateReq, once: validation, the gRPC and REST mappings, the OpenAPI
 * schema, log redaction and the guest's environment file are derived from
 * this table. In wire order (the .proto's field numbers).
 */
export const CREATE_REQUEST_FIELDS: readonly CreateRequestField[] = [
  { key: 'agentLogLevel', wire: 'agent_log_level', kind: 'text', secret: false, env: { variable: 'AGENT_LOG_LEVEL', order: 1, write: 'value' } },
  {
    key: 'agentCvmServerCaCert',
    wire: 'agent_cvm_server_ca_cert',
    kind: 'pem',
    secret: true,
    env: { variable: 'AGENT_CVM_GRPC_SERVER_CA_CERTS', order: 8, write: { guestPath: GUEST_CERT_PATHS.ca } },
  },
  {
    key: 'agentCvmClientKey',
    wire: 'agent_cvm_client_key',
    kind: 'pem',
    secret: true,
    env: { variable: 'AGENT_CVM_GRPC_CLIENT_KEY', order: 7, write: { guestPath: GUEST_CERT_PATHS.key } },
  },
  {
    key: 'agentCvmClientCert',
    wire: 'agent_cvm_client_cert',
    kind: 'pem',
    secret: true,
    env: { variable: 'AGENT_CVM_GRPC_CLIENT_CERT', order: 6, write: { guestPath: GUEST_CERT_PATHS.cert } },
  },
  { key: 'agentCvmServerUrl', wire: 'agent_cvm_server_url', kind: 'text', secret: false, env: { variable: 'AGENT_CVM_GRPC_URL', order: 2, write: 'value' } },
  { key: 'agentCvmCaUrl', wire: 'agent_cvm_ca_url', kind: 'text', secret: false, env: { variable: 'AGENT_CVM_CA_URL', order: 5, write: 'value' } },
  { key: 'ttl', wire: 'ttl', kind: 'text', secret: false },
  { key: 'agentCertsToken', wire: 'agent_certs_token', kind: 'text', secret: true, env: { variable: 'AGENT_CERTS_TOKEN', order: 4, write: 'value' } },
  { key: 'awsAccessKeyId', wire: 'aws_access_key_id', kind: 'text', secret: true, env: { variable: 'AWS_ACCESS_KEY_ID', order: 9, write: 'value-if-set' } },
  {
    key: 'awsSecretAccessKey',
    wire: 'aws_secret_access_key',
    kind: 'text',
    secret: true,
    env: { variable: 'AWS_SECRET_ACCESS_KEY', order: 10, write: 'value-if-set' },
  },
  { key: 'awsEndpointUrl', wire: 'aws_endpoint_url', kind: 'text', secret: false, env: { variable: 'AWS_ENDPOINT_URL', order: 11, write: 'value-if-set' } },
  { key: 'awsRegion', wire: 'aws_region', kind: 'text', secret: false, env: { variable: 'AWS_REGION', order: 12, write: 'value-if-set' } },
  // On the kernel command line (agent.aa_kbc_params=…), not in the environment file.
  { key: 'aaKbsParams', wire: 'aa_kbs_params', kind: 'text', secret: false },
];

export type TextField = CreateRequestField & {
  readonly kind: 'text';
  readonly key: { [K in keyof CreateVmRequest]: CreateVmRequest[K] extends string ? K : never }[keyof CreateVmRequest];
};
export type PemField = CreateRequestField & {
  readonly kind: 'pem';
  readonly key: { [K in keyof CreateVmRequest]: CreateVmRequest[K] extends Uint8Array ? K : never }[keyof CreateVmRequest];
};

export const TEXT_FIELDS = CREATE_REQUEST_FIELDS.filter((f): f is TextField => f.kind === 'text');
export const PEM_FIELDS = CREATE_REQUEST_FIELDS.filter((f): f is PemField => f.kind === 'pem');
