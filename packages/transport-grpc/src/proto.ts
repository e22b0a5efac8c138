import { createRequire } from 'node:module';
import path from 'node:path';
import { loadSync } from '@grpc/proto-loader';
import { PROTO_OPTIONS } from '@cocos-manager/contract';

/** grpc.health.v1, from the grpc-health-check package, so reflection lists it too. */
export function loadHealthPackageDefinition() {
  const pkg = createRequire(import.meta.url).resolve('grpc-health-check/package.json');
  return loadSync(path.join(path.dirname(pkg), 'proto/health/v1/health.proto'), PROTO_OPTIONS);
}
