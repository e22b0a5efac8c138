export { loadManagerPackageDefinition, loadManagerProto, MANAGER_PROTO_PATH, PROTO_OPTIONS } from './proto.js';
export type * from './wire.js';
export { POLICY_FORMAT_METADATA } from './metadata.js';
export {
  CM_PROCESS_PATH,
  CM_PROTO_PACKAGE,
  CM_STREAM_PROTO_PATH,
  decodeEventsLogs,
  encodeEventsLogs,
  loadCmStreamPackageDefinition,
  loadCmStreamProto,
} from './cm-stream.js';
export { decodeComputationRunReq, encodeComputationRunReq, type ComputationRunReqInput } from './cm-run-request.js';
export type * from './cm-wire.js';
