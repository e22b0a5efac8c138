import { decodeEventsLogs, type EventsLogs, type Timestamp } from '@cocos-manager/contract';
import { FrameRejected } from './frame-rejected.js';

/**
 * The most each field of an agent's log or event may hold, in UTF-8 bytes. A
 * field over its bound makes the frame `malformed` (dropped and counted):
 * a well-behaved agent stays far below them, and nothing a guest sends is
 * kept or forwarded at a size it chose.
 */
export const AGENT_FIELD_LIMITS = {
  /** A log line. */
  message: 16 * 1024,
  /** An event's details (JSON by the agent's convention). */
  details: 16 * 1024,
  computation_id: 128,
  level: 16,
  event_type: 64,
  originator: 64,
  status: 64,
} as const;

export interface AgentLogMessage {
  readonly kind: 'log';
  readonly computationId: string;
  readonly level: string;
  readonly message: string;
  /** The agent's time; null when it sent none. */
  readonly timestamp: Date | null;
}

export interface AgentEventMessage {
  readonly kind: 'event';
  readonly computationId: string;
  readonly eventType: string;
  readonly status: string;
  readonly originator: string;
  readonly details: Buffer;
  readonly timestamp: Date | null;
}

/** One checked log or event from an agent (the payload of one frame). */
export type AgentMessage = AgentLogMessage | AgentEventMessage;

type Limited = keyof typeof AGENT_FIELD_LIMITS;

function bounded<T extends string | Buffer>(field: Limited, value: T): T {
  const bytes = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  const limit = AGENT_FIELD_LIMITS[field];
  if (bytes > limit) throw new FrameRejected('malformed', `${field} is ${bytes} bytes; at most ${limit} are allowed`, { field, bytes });
  return value;
}

/** Years 1 to 9999, as RFC 3339 and google.protobuf.Timestamp allow. */
const MIN_SECONDS = -62_135_596_800;
const MAX_SECONDS = 253_402_300_799;

function timeOf(timestamp: Timestamp | null): Date | null {
  if (timestamp === null) return null;
  const seconds = Number(timestamp.seconds);
  const { nanos } = timestamp;
  if (!Number.isSafeInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS || !Number.isInteger(nanos) || nanos < 0 || nanos > 999_999_999) {
    throw new FrameRejected('malformed', 'the timestamp is out of range', { field: 'timestamp' });
  }
  return new Date(seconds * 1000 + Math.floor(nanos / 1_000_000));
}

/**
 * Decodes one frame's payload (an EventsLogs, protobuf) into a checked
 * message: every field within its bound, the timestamp a real time. Throws
 * FrameRejected (`malformed`) otherwise. The payload is already bounded by
 * the frame (at most 1 MiB), so decoding it is too.
 */
export function decodeAgentMessage(payload: Buffer): AgentMessage {
  let decoded: EventsLogs;
  try {
    decoded = decodeEventsLogs(payload);
  } catch (err) {
    throw new FrameRejected('malformed', `the payload is not an agent log or event: ${err instanceof Error ? err.message : String(err)}`);
  }
  // `message` is the oneof's name (upstream's): which member is set, not a text.
  switch (decoded.message) {
    case 'agent_log': {
      const log = decoded.agent_log;
      return {
        kind: 'log',
        computationId: bounded('computation_id', log.computation_id),
        level: bounded('level', log.level),
        message: bounded('message', log.message),
        timestamp: timeOf(log.timestamp),
      };
    }
    case 'agent_event': {
      const event = decoded.agent_event;
      return {
        kind: 'event',
        computationId: bounded('computation_id', event.computation_id),
        eventType: bounded('event_type', event.event_type),
        status: bounded('status', event.status),
        originator: bounded('originator', event.originator),
        details: bounded('details', event.details),
        timestamp: timeOf(event.timestamp),
      };
    }
  }
}
