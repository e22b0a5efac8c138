import { readFileSync } from 'node:fs';
import type { ComputationRunReqInput } from '@cocos-manager/contract';

type Json = Record<string, unknown>;

const text = (value: unknown, what: string): string => {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new Error(`${what} must be a string`);
  return value;
};
const hex = (value: unknown, what: string): Buffer => {
  const s = text(value, what);
  if (!/^([0-9a-fA-F]{2})*$/.test(s)) throw new Error(`${what} must be hex (a sha3-256 is 64 hex digits)`);
  return Buffer.from(s, 'hex');
};
/** A user key: its PEM text as written (`userKey` or `user_key`). */
const key = (item: Json, what: string): Buffer => Buffer.from(text(item['userKey'] ?? item['user_key'], `${what}.userKey`), 'utf8');
const objects = (value: unknown, what: string): Json[] => {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'object' || v === null)) throw new Error(`${what} must be an array of objects`);
  return value as Json[];
};

/**
 * A run request from JSON, as an operator writes one for the stub: the
 * ComputationRunReq fields by their .proto names, hashes in hex, user keys as
 * their PEM text, `agent_config` as in the .proto:
 *
 *   { "id": "c1", "name": "addition", "algorithm": { "hash": "<64 hex>", "userKey": "-----BEGIN PUBLIC KEY-----…" },
 *     "datasets": [{ "hash": "<64 hex>", "userKey": "…", "filename": "data.csv" }], "result_consumers": [{ "userKey": "…" }],
 *     "agent_config": { "port": "7002", "log_level": "debug" } }
 */
export function runRequestFromJson(json: unknown): ComputationRunReqInput & { id: string } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('a run request is a JSON object');
  const run = json as Json;
  const id = text(run['id'], 'id');
  if (id === '') throw new Error('a run request needs an "id" (the computation id)');
  const algorithm = run['algorithm'] as Json | undefined | null;
  const config = run['agent_config'] as Json | undefined | null;
  return {
    id,
    name: text(run['name'], 'name'),
    description: text(run['description'], 'description'),
    datasets: objects(run['datasets'], 'datasets').map((d, i) => ({
      hash: hex(d['hash'], `datasets[${i}].hash`),
      userKey: key(d, `datasets[${i}]`),
      filename: text(d['filename'], `datasets[${i}].filename`),
    })),
    algorithm: algorithm ? { hash: hex(algorithm['hash'], 'algorithm.hash'), userKey: key(algorithm, 'algorithm') } : null,
    result_consumers: objects(run['result_consumers'], 'result_consumers').map((c, i) => ({ userKey: key(c, `result_consumers[${i}]`) })),
    agent_config: config
      ? {
          port: text(config['port'], 'agent_config.port'),
          host: text(config['host'], 'agent_config.host'),
          cert_file: text(config['cert_file'], 'agent_config.cert_file'),
          key_file: text(config['key_file'], 'agent_config.key_file'),
          client_ca_file: text(config['client_ca_file'], 'agent_config.client_ca_file'),
          server_ca_file: text(config['server_ca_file'], 'agent_config.server_ca_file'),
          log_level: text(config['log_level'], 'agent_config.log_level'),
          attested_tls: config['attested_tls'] === true,
        }
      : null,
  };
}

/** `runRequestFromJson` of a file. */
export function readRunFile(file: string): ComputationRunReqInput & { id: string } {
  return runRequestFromJson(JSON.parse(readFileSync(file, 'utf8')));
}
