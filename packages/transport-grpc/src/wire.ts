import type { CreateVmRequest } from '@cocos-manager/core';
import type { CreateReq } from '@cocos-manager/contract';

/** CreateReq off the wire as the service's request (the server's side of the contract). */
export function fromCreateReq(req: CreateReq): CreateVmRequest {
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
