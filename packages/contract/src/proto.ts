import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';

/** The shipped `manager.proto` (in proto/, next to src/ and dist/). */
export const MANAGER_PROTO_PATH = fileURLToPath(new URL('../proto/manager.proto', import.meta.url));

/**
 * Decoding options: wire field names, bytes as Buffer, every field present.
 * The message types in wire.ts describe messages decoded with exactly these.
 */
export const PROTO_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

/** `manager.proto` as proto-loader reads it (for a server's addService and reflection). */
export function loadManagerPackageDefinition(): PackageDefinition {
  return loadSync(MANAGER_PROTO_PATH, PROTO_OPTIONS);
}

/**
 * `manager.ManagerService` as a grpc-js client constructor; its `.service`
 * is the service definition a server adds.
 */
export function loadManagerProto(): { ManagerService: ServiceClientConstructor } {
  const grpcObject = loadPackageDefinition(loadManagerPackageDefinition());
  const managerPackage = grpcObject['manager'] as GrpcObject;
  return { ManagerService: managerPackage['ManagerService'] as ServiceClientConstructor };
}
