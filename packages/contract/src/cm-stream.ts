import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { PROTO_OPTIONS } from './proto.js';
import type { EventsLogs, EventsLogsInput } from './cm-wire.js';

/** The shipped `cm-stream.proto` (in proto/, next to src/ and dist/). */
export const CM_STREAM_PROTO_PATH = fileURLToPath(new URL('../proto/cm-stream.proto', import.meta.url));

/** The proto package of cm-stream.proto: not upstream's `manager`, so it never clashes with manager.proto. */
export const CM_PROTO_PACKAGE = 'cocos.cm';

/** The stream's method path on the wire: upstream's, whatever the proto package (a Go Computation Management serves this). */
export const CM_PROCESS_PATH = '/manager.ManagerService/Process';

/**
 * `cm-stream.proto` as proto-loader reads it, with Process at upstream's
 * path: a client built from it dials, and a server that adds it serves,
 * /manager.ManagerService/Process.
 */
export function loadCmStreamPackageDefinition(): PackageDefinition {
  const definition = loadSync(CM_STREAM_PROTO_PATH, PROTO_OPTIONS);
  const service = definition[`${CM_PROTO_PACKAGE}.ManagerService`] as Record<string, { path: string }> | undefined;
  const process = service?.['Process'];
  if (!process) throw new Error(`cm-stream.proto declares no ${CM_PROTO_PACKAGE}.ManagerService.Process`);
  process.path = CM_PROCESS_PATH;
  return definition;
}

/**
 * The Computation Management service as a grpc-js client constructor (the
 * manager dials it in client mode); its `.service` is what a test server adds.
 */
export function loadCmStreamProto(): { ManagerService: ServiceClientConstructor } {
  let node: GrpcObject = loadPackageDefinition(loadCmStreamPackageDefinition());
  for (const part of CM_PROTO_PACKAGE.split('.')) node = node[part] as GrpcObject;
  return { ManagerService: node['ManagerService'] as ServiceClientConstructor };
}

let eventsLogsType: protobuf.Type | null = null;

/** `cocos.cm.EventsLogs`, read once with the .proto's own field names. */
function eventsLogs(): protobuf.Type {
  if (!eventsLogsType) {
    const root = new protobuf.Root().loadSync(CM_STREAM_PROTO_PATH, { keepCase: true });
    eventsLogsType = root.lookupType(`${CM_PROTO_PACKAGE}.EventsLogs`);
  }
  return eventsLogsType;
}

/** One agent-channel payload, encoded (what the agent writes after a frame header). */
export function encodeEventsLogs(message: EventsLogsInput): Buffer {
  const type = eventsLogs();
  // fromObject throws a TypeError on a field of the wrong kind; int64s may be decimal strings.
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}

/**
 * One agent-channel payload, decoded as proto-loader decodes messages
 * (PROTO_OPTIONS). Throws on bytes that are not an EventsLogs with one
 * member set. Decoding is bounded by the input: the caller bounds that.
 */
export function decodeEventsLogs(bytes: Uint8Array): EventsLogs {
  const type = eventsLogs();
  const decoded = type.toObject(type.decode(bytes), PROTO_OPTIONS) as Record<string, unknown>;
  const member = decoded['message'];
  if (member !== 'agent_log' && member !== 'agent_event') throw new Error('an EventsLogs with neither agent_log nor agent_event set');
  return decoded as unknown as EventsLogs;
}
