import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANAGER_PROTO_PATH } from '../src/index.js';
import { call, managerClient, startGrpcManager, type GrpcTestManager } from './harness.js';

/** The statuses the API documents; anything else (UNKNOWN, UNAVAILABLE, …) is a finding. */
const DOCUMENTED = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.RESOURCE_EXHAUSTED,
  status.FAILED_PRECONDITION,
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.INTERNAL,
]);
const RPCS = {
  CreateVm: 'CreateReq',
  RemoveVm: 'RemoveReq',
  CVMInfo: 'CVMInfoReq',
  AttestationPolicy: 'AttestationPolicyReq',
  ListVms: 'ListVmsReq',
  GetVm: 'GetVmReq',
  GetConsole: 'GetConsoleReq',
  WatchEvents: 'WatchEventsReq',
} as const;
type Rpc = keyof typeof RPCS;
const identity = (x: Buffer) => x;
const root = new protobuf.Root().loadSync(MANAGER_PROTO_PATH, { keepCase: true });

interface Outcome {
  readonly code: number;
  readonly details: string;
}

/** Sends `bytes` as the request of `rpc`, whatever they hold; the outcome is the call's status. */
function send(client: Client, rpc: Rpc, bytes: Buffer, md = new Metadata(), quietMs = 30): Promise<Outcome> {
  const method = `/manager.ManagerService/${rpc}`;
  const deadline = Date.now() + 10_000;
  if (rpc !== 'WatchEvents') {
    return new Promise((resolve) =>
      client.makeUnaryRequest(method, identity, identity, bytes, md, { deadline }, (err: ServiceError | null) =>
        resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: '' }),
      ),
    );
  }
  // A stream: its first event, or its failure, is the outcome; then it is cancelled.
  return new Promise((resolve) => {
    const stream = client.makeServerStreamRequest(method, identity, identity, bytes, md, { deadline });
    const settle = (o: Outcome) => {
      resolve(o);
      stream.cancel();
    };
    const quiet = setTimeout(() => settle({ code: status.OK, details: '' }), quietMs);
    stream.on('data', () => settle({ code: status.OK, details: '' }));
    stream.on('error', (err: ServiceError) => {
      clearTimeout(quiet);
      if (err.code !== status.CANCELLED) resolve({ code: err.code, details: err.details });
    });
    stream.on('end', () => clearTimeout(quiet));
  });
}

/** A value of one protobuf field: strings with traps (paths, NUL, U+00A0, long), bytes, numbers at the edges. */
function fieldValue(field: protobuf.Field): fc.Arbitrary<unknown> {
  const text = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom(
      '',
      '../../etc',
      '/etc/passwd',
      '00000000-0000-4000-8000-000000000000',
      'a\u0000b',
      'x\u00a0init=/bin/sh',
      '1h',
      '-1s',
      '9999999h',
      'NaN',
      '†',
    ),
    fc.string({ minLength: 1000, maxLength: 5000 }),
  );
  switch (field.type) {
    case 'string':
      return text;
    case 'bytes':
      return fc.uint8Array({ maxLength: 4096 });
    case 'bool':
      return fc.boolean();
    case 'uint32':
      return fc.oneof(fc.nat(), fc.constantFrom(0, 1, 0xffffffff));
    case 'int32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    default:
      return fc.constant(undefined);
  }
}

function validishMessage(rpc: Rpc): fc.Arbitrary<Buffer> {
  const type = root.lookupType(`manager.${RPCS[rpc]}`);
  const fields = Object.fromEntries(Object.values(type.fields).map((f) => [f.name, fieldValue(f)]));
  return fc.record(fields, { requiredKeys: [] }).map((o) => Buffer.from(type.encode(type.fromObject(o)).finish()));
}

/** Raw bytes: random, or a valid message with random bytes spliced in / cut short. */
const rawBytes = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  fc
    .tuple(fc.constantFrom(...(Object.keys(RPCS) as Rpc[])), fc.uint8Array({ maxLength: 64 }), fc.nat())
    .chain(([rpc, noise, cut]) => validishMessage(rpc).map((m) => Buffer.concat([m.subarray(0, cut % (m.length + 1)), Buffer.from(noise)]))),
);

/** Every status the fuzz runs saw, so a run that exercised nothing (all refused, all OK) shows. */
const seen = new Set<number>();

function expectDocumented(rpc: Rpc, outcome: Outcome): void {
  seen.add(outcome.code);
  expect(DOCUMENTED.has(outcome.code), `${rpc} answered ${status[outcome.code]}: ${outcome.details}`).toBe(true);
  // A message any client may see: no host paths, no stack.
  expect(outcome.details, `${rpc}: ${outcome.details}`).not.toMatch(/\/(tmp|run|var|home|proc)\/|\n\s+at /);
}

describe('fuzz: random protobuf for every RPC over a real socket', () => {
  let m: GrpcTestManager;
  let raw: Client;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-grpc-fuzz-'));
  beforeAll(async () => {
    m = await startGrpcManager({ MANAGER_MAX_VMS: '8' });
    raw = new Client(`127.0.0.1:${m.port}`, credentials.createInsecure());
  });
  afterAll(async () => {
    raw?.close();
    await m?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('random bytes as any request: only documented statuses, the manager keeps answering', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...(Object.keys(RPCS) as Rpc[])), rawBytes, async (rpc, bytes) => expectDocumented(rpc, await send(raw, rpc, bytes))),
      { numRuns: 2000 },
    );
    // Undecodable bytes and bad values were refused, and some calls were served.
    expect([...seen].sort()).toEqual(expect.arrayContaining([status.OK, status.INVALID_ARGUMENT]));
    expect(await call(managerClient(`127.0.0.1:${m.port}`), 'ListVms', {})).toMatchObject({ vms: expect.any(Array) });
  }, 120_000);

  it('random valid-ish messages for every RPC: only documented statuses', async () => {
    const anyRpc = fc.constantFrom(...(Object.keys(RPCS) as Rpc[])).chain((rpc) => validishMessage(rpc).map((bytes) => [rpc, bytes] as const));
    await fc.assert(
      fc.asyncProperty(anyRpc, async ([rpc, bytes]) => expectDocumented(rpc, await send(raw, rpc, bytes))),
      { numRuns: 1200 },
    );
    const client = managerClient(`127.0.0.1:${m.port}`);
    expect(await call(client, 'ListVms', {})).toMatchObject({ vms: expect.any(Array) });
    client.close();
  }, 120_000);

  it('with tokens configured: random credentials are UNAUTHENTICATED, never served', async () => {
    const tokens = path.join(dir, 'tokens');
    writeFileSync(tokens, `admin ops ${'a'.repeat(40)}\n`);
    chmodSync(tokens, 0o600);
    const secured = await startGrpcManager({ MANAGER_AUTH_TOKENS_FILE: tokens });
    const client = new Client(`127.0.0.1:${secured.port}`, credentials.createInsecure());
    try {
      const authorization = fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.string({ minLength: 32, maxLength: 64 }).map((t) => `Bearer ${t}`),
        fc.constantFrom('Bearer', 'Bearer ', `Basic ${'a'.repeat(40)}`, `Bearer ${'a'.repeat(39)}`, `Bearer ${'a'.repeat(41)}`),
      );
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...(Object.keys(RPCS) as Rpc[])), authorization, async (rpc, value) => {
          const md = new Metadata();
          // Metadata values must be printable ASCII; grpc-js refuses others on the client side.
          if (/^[\x20-\x7e]*$/.test(value)) md.set('authorization', value);
          const outcome = await send(client, rpc, Buffer.alloc(0), md, 5000);
          expect(outcome.code, `${rpc} with ${JSON.stringify(value)}: ${outcome.details}`).toBe(status.UNAUTHENTICATED);
        }),
        { numRuns: 400 },
      );
      expect(secured.creates()).toBe(0);
    } finally {
      client.close();
      await secured.stop();
    }
  }, 60_000);
});
