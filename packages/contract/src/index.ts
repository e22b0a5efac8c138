export { loadManagerPackageDefinition, loadManagerProto, MANAGER_PROTO_PATH, PROTO_OPTIONS } from './proto.js';
export type * from './wire.js';
export { POLICY_FORMAT_METADATA } from './metadata.js';
