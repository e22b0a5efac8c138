import type { CreateVmRequest } from '@cocos-manager/core';

/** CreateReq as proto-loader decodes it (keepCase, bytes as Buffer, defaults filled). */
export interface CreateReqWire {
  agent_log_level: string;
  agent_cvm_server_ca_cert: Buffer;
  agent_cvm_client_key: Buffer;
  agent_cvm_client_cert: Buffer;
  agent_cvm_server_url: string;
  agent_cvm_ca_url: string;
  ttl: string;
  agent_certs_token: string;
  aws_access_key_id: string;
  aws_secret_access_key: string;
  aws_endpoint_url: string;
  aws_region: string;
  aa_kbs_params: string;
}

export function fromCreateReq(req: CreateReqWire): CreateVmRequest {
  return {
    agentLogLevel: req.agent_log_level,
    agentCvmServerCaCert: req.agent_cvm_server_ca_cert,
    agentCvmClientKey: req.agent_cvm_client_key,
    agentCvmClientCert: req.agent_cvm_client_cert,
    agentCvmServerUrl: req.agent_cvm_server_url,
    agentCvmCaUrl: req.agent_cvm_ca_url,
    ttl: req.ttl,
    agentCertsToken: req.agent_certs_token,
    awsAccessKeyId: req.aws_access_key_id,
    awsSecretAccessKey: req.aws_secret_access_key,
    awsEndpointUrl: req.aws_endpoint_url,
    awsRegion: req.aws_region,
    aaKbsParams: req.aa_kbs_params,
  };
}
