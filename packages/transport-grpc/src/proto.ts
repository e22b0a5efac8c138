import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** The shipped `manager.proto` (next to src/ and dist/). */
export const MANAGER_PROTO_PATH = fileURLToPath(new URL('../proto/manager.proto', import.meta.url));

/** Decoding options: wire field names, bytes as Buffer, every field present. */
export const PROTO_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

/** grpc.health.v1, from the grpc-health-check package, so reflection lists it too. */
export function loadHealthPackageDefinition() {
  const pkg = createRequire(import.meta.url).resolve('grpc-health-check/package.json');
  return loadSync(path.join(path.dirname(pkg), 'proto/health/v1/health.proto'), PROTO_OPTIONS);
}

export function loadManagerPackageDefinition() {
  return loadSync(MANAGER_PROTO_PATH, PROTO_OPTIONS);
}

export function loadManagerProto(): { ManagerService: ServiceClientConstructor } {
  const definition = loadManagerPackageDefinition();
  const grpcObject = loadPackageDefinition(definition);
  const managerPackage = grpcObject['manager'] as GrpcObject;
  return { ManagerService: managerPackage['ManagerService'] as ServiceClientConstructor };
}
