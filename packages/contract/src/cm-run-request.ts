import protobuf from 'protobufjs';
import { CM_PROTO_PACKAGE, CM_STREAM_PROTO_PATH } from './cm-stream.js';
import { PROTO_OPTIONS } from './proto.js';
import type { ComputationRunReq } from './cm-wire.js';

/** A run request to encode: nested fields may be left out (bytes as Buffer or Uint8Array). */
export type ComputationRunReqInput = Partial<Omit<ComputationRunReq, 'datasets' | 'algorithm' | 'result_consumers' | 'agent_config'>> & {
  datasets?: Array<Partial<ComputationRunReq['datasets'][number]>>;
  algorithm?: Partial<NonNullable<ComputationRunReq['algorithm']>> | null;
  result_consumers?: Array<Partial<ComputationRunReq['result_consumers'][number]>>;
  agent_config?: Partial<NonNullable<ComputationRunReq['agent_config']>> | null;
};

let runRequestType: protobuf.Type | null = null;

/** `cocos.cm.ComputationRunReq`, read once with the .proto's own field names. */
function runRequest(): protobuf.Type {
  if (!runRequestType) {
    const root = new protobuf.Root().loadSync(CM_STREAM_PROTO_PATH, { keepCase: true });
    runRequestType = root.lookupType(`${CM_PROTO_PACKAGE}.ComputationRunReq`);
  }
  return runRequestType;
}

/**
 * A ComputationRunReq marshalled, as Computation Management splits it into
 * RunReqChunks. Throws a TypeError on a field of the wrong kind.
 */
export function encodeComputationRunReq(run: ComputationRunReqInput): Buffer {
  const type = runRequest();
  return Buffer.from(type.encode(type.fromObject(run)).finish());
}

/**
 * The bytes of reassembled RunReqChunks as a ComputationRunReq, decoded as
 * proto-loader decodes a `runReq` (PROTO_OPTIONS: every field present, bytes
 * as Buffer, an unset message as null). Throws on bytes that are no valid
 * protobuf of that message. Bounded by the input: the caller bounds that.
 */
export function decodeComputationRunReq(bytes: Uint8Array): ComputationRunReq {
  const type = runRequest();
  // protobufjs reads a Buffer with its BufferReader, whose strings end quietly at the end of the
  // input; its plain Reader (a Uint8Array that is no Buffer) refuses a length past the end. That
  // pass checks, the Buffer pass decodes (bytes fields as Buffer, as proto-loader gives them).
  type.decode(protobuf.Reader.create(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
  const decoded = type.toObject(type.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)), PROTO_OPTIONS) as Record<string, unknown>;
  // toObject leaves an unset message field out; proto-loader (and cm-wire.ts) say null.
  for (const field of ['algorithm', 'agent_config']) decoded[field] ??= null;
  return decoded as unknown as ComputationRunReq;
}
