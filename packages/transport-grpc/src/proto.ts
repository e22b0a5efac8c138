import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';

/** The shipped `manager.proto` (next to src/ and dist/). */
export const MANAGER_PROTO_PATH = fileURLToPath(new URL('../proto/manager.proto', import.meta.url));

/** Decoding options: wire field names, bytes as Buffer, every field present. */
export const PROTO_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;

export function loadManagerProto(): { ManagerService: ServiceClientConstructor } {
  const definition = loadSync(MANAGER_PROTO_PATH, PROTO_OPTIONS);
  const grpcObject = loadPackageDefinition(definition);
  const managerPackage = grpcObject['manager'] as GrpcObject;
  return { ManagerService: managerPackage['ManagerService'] as ServiceClientConstructor };
}
