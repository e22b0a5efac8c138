import { describe, expect, it } from 'vitest';
import { encodeEventsLogs } from '@cocos-manager/contract';
import { AGENT_FIELD_LIMITS, decodeAgentMessage, FrameRejected } from '../src/index.js';

const rejection = (payload: Buffer) => {
  try {
    decodeAgentMessage(payload);
  } catch (err) {
    if (err instanceof FrameRejected) return err;
    throw err;
  }
  throw new Error('accepted');
};

describe('agent payloads (EventsLogs) decoded and checked', () => {
  it('a log, with its time', () => {
    const payload = encodeEventsLogs({
      agent_log: { message: 'fetching dataset', computation_id: 'c1', level: 'INFO', timestamp: { seconds: '1700000000', nanos: 250_000_000 } },
    });
    expect(decodeAgentMessage(payload)).toEqual({
      kind: 'log',
      computationId: 'c1',
      level: 'INFO',
      message: 'fetching dataset',
      timestamp: new Date('2023-11-14T22:13:20.250Z'),
    });
  });

  it('an event, details as bytes, no time when none was sent', () => {
    const payload = encodeEventsLogs({
      agent_event: { event_type: 'algorithm-run', computation_id: 'c1', details: Buffer.from('{"step":2}'), originator: 'agent', status: 'InProgress' },
    });
    expect(decodeAgentMessage(payload)).toEqual({
      kind: 'event',
      computationId: 'c1',
      eventType: 'algorithm-run',
      status: 'InProgress',
      originator: 'agent',
      details: Buffer.from('{"step":2}'),
      timestamp: null,
    });
  });

  it('accepts each field at its bound', () => {
    const at = (n: number) => 'é'.repeat(n / 2); // two UTF-8 bytes each
    const payload = encodeEventsLogs({
      agent_log: { message: at(AGENT_FIELD_LIMITS.message), computation_id: at(AGENT_FIELD_LIMITS.computation_id), level: at(AGENT_FIELD_LIMITS.level) },
    });
    expect(decodeAgentMessage(payload).kind).toBe('log');
  });

  it.each([
    ['message', { agent_log: { message: 'm'.repeat(AGENT_FIELD_LIMITS.message + 1) } }],
    ['level', { agent_log: { level: 'é'.repeat(AGENT_FIELD_LIMITS.level / 2 + 1) } }],
    ['computation_id', { agent_event: { computation_id: 'c'.repeat(AGENT_FIELD_LIMITS.computation_id + 1) } }],
    ['event_type', { agent_event: { event_type: 'e'.repeat(AGENT_FIELD_LIMITS.event_type + 1) } }],
    ['status', { agent_event: { status: 's'.repeat(AGENT_FIELD_LIMITS.status + 1) } }],
    ['originator', { agent_event: { originator: 'o'.repeat(AGENT_FIELD_LIMITS.originator + 1) } }],
    ['details', { agent_event: { details: Buffer.alloc(AGENT_FIELD_LIMITS.details + 1) } }],
  ] as const)('refuses %s over its bound as malformed, naming the field', (field, message) => {
    const err = rejection(encodeEventsLogs(message));
    expect(err).toMatchObject({ rejectReason: 'malformed', fatal: false, fields: { reason: 'malformed', field } });
    expect(err.message).toMatch(new RegExp(`^${field} is \\d+ bytes; at most ${AGENT_FIELD_LIMITS[field]} are allowed$`));
  });

  it.each([
    ['seconds past year 9999', { seconds: '253402300800', nanos: 0 }],
    ['seconds before year 1', { seconds: '-62135596801', nanos: 0 }],
    ['nanos over a second', { seconds: '0', nanos: 1_000_000_000 }],
    ['negative nanos', { seconds: '0', nanos: -1 }],
  ])('refuses a timestamp with %s', (_what, timestamp) => {
    expect(rejection(encodeEventsLogs({ agent_log: { timestamp } }))).toMatchObject({ rejectReason: 'malformed', fields: { field: 'timestamp' } });
  });

  it('refuses bytes that are no EventsLogs, without echoing them', () => {
    for (const bytes of [Buffer.alloc(0), Buffer.from([0x0a, 0x7f, 1]), Buffer.from([0xff, 0xff, 0xff]), Buffer.from('secret-looking guest text')]) {
      const err = rejection(bytes);
      expect(err.rejectReason).toBe('malformed');
      expect(err.message).not.toContain('secret');
    }
  });
});
