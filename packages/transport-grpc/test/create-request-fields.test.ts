import { describe, expect, it } from 'vitest';
import { CREATE_REQUEST_FIELDS, emptyCreateVmRequest } from '@cocos-manager/core';
import { loadManagerPackageDefinition } from '@cocos-manager/contract';
import { fromCreateReq } from '../src/wire.js';

/** CreateReq's fields as the .proto declares them: name, number, bytes or string. */
function protoFields(): Array<{ name: string; number: number; type: string }> {
  const definition = loadManagerPackageDefinition()['manager.CreateReq'] as unknown as {
    type: { field: Array<{ name: string; number: number; type: string }> };
  };
  return definition.type.field.map(({ name, number, type }) => ({ name, number, type }));
}

describe("core's CreateReq field table", () => {
  it('is the .proto’s CreateReq, in field-number order, each field with its kind', () => {
    const proto = protoFields().sort((a, b) => a.number - b.number);
    expect(CREATE_REQUEST_FIELDS.map((f) => f.wire)).toEqual(proto.map((f) => f.name));
    for (const field of CREATE_REQUEST_FIELDS) {
      const declared = proto.find((p) => p.name === field.wire)!;
      expect([field.wire, declared.type]).toEqual([field.wire, field.kind === 'pem' ? 'TYPE_BYTES' : 'TYPE_STRING']);
    }
  });

  it('names every CreateVmRequest key once', () => {
    expect(CREATE_REQUEST_FIELDS.map((f) => f.key).sort()).toEqual(Object.keys(emptyCreateVmRequest()).sort());
  });

  it('maps every wire field to its key (gRPC)', () => {
    const wire = Object.fromEntries(CREATE_REQUEST_FIELDS.map((f, i) => [f.wire, f.kind === 'pem' ? Buffer.from([i]) : `v${i}`]));
    const request = fromCreateReq(wire as never) as unknown as Record<string, unknown>;
    CREATE_REQUEST_FIELDS.forEach((f, i) => {
      expect([f.key, request[f.key]]).toEqual([f.key, f.kind === 'pem' ? Buffer.from([i]) : `v${i}`]);
    });
  });
});
