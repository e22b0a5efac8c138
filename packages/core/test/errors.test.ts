import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  clientErrorOf,
  ConfigError,
  ERROR_CATALOGUE,
  ErrorCode,
  errorCodeOf,
  isManagerError,
  ManagerError,
  QemuCommand,
  QemuElementError,
  renderErrorCatalogue,
  type ErrorCatalogueEntry,
  type ErrorKind,
} from '../src/index.js';
import { DurationSyntaxError } from '../src/config/duration.js';
import { PluginError, QmpError } from '../src/internal.js';

/** The gRPC spec's numbers (doc/statuscodes.md) and the HTTP statuses each class may use. */
const STATUS: Record<ErrorCode, { grpc: number; http: readonly number[] }> = {
  INVALID_ARGUMENT: { grpc: 3, http: [400, 413, 415] },
  DEADLINE_EXCEEDED: { grpc: 4, http: [504] },
  NOT_FOUND: { grpc: 5, http: [404] },
  PERMISSION_DENIED: { grpc: 7, http: [403] },
  RESOURCE_EXHAUSTED: { grpc: 8, http: [429, 431, 503, 507] },
  FAILED_PRECONDITION: { grpc: 9, http: [412] },
  INTERNAL: { grpc: 13, http: [500] },
  UNAUTHENTICATED: { grpc: 16, http: [401] },
};

const entries = Object.entries<ErrorCatalogueEntry>(ERROR_CATALOGUE) as Array<[ErrorKind, ErrorCatalogueEntry]>;

describe('error catalogue', () => {
  it.each(entries)('%s: a stable code with statuses of its class', (kind, entry) => {
    expect(kind).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/);
    expect(entry.grpcStatus).toBe(STATUS[entry.code].grpc);
    expect(STATUS[entry.code].http).toContain(entry.httpStatus);
    expect(entry.clientMessage).toMatch(/^[a-zA-Z][a-zA-Z -]+$/);
    expect(entry.doc.length).toBeGreaterThan(20);
    // A call error names the transports whose calls can carry it; the others none.
    if (entry.scope === 'call') expect(entry.transports.length).toBeGreaterThan(0);
    else expect(entry.transports).toEqual([]);
  });

  it('has a code for every status class', () => {
    expect(new Set(entries.map(([, e]) => e.code))).toEqual(new Set(Object.values(ErrorCode)));
  });

  it('is what docs/errors.md says, every code in it (npm run docs writes it)', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    expect(doc).toBe(renderErrorCatalogue());
    for (const [kind] of entries) expect(doc).toContain(`| \`${kind}\` |`);
  });
});

describe('ManagerError', () => {
  it('takes every status from its code', () => {
    const err = new ManagerError('PORTS_EXHAUSTED', 'no free host port in 6100-6200', { fields: { first: 6100 } });
    expect(err).toMatchObject({ kind: 'PORTS_EXHAUSTED', reason: 'PORTS_EXHAUSTED', code: 'RESOURCE_EXHAUSTED', fields: { first: 6100 } });
    expect(errorCodeOf(err)).toBe('RESOURCE_EXHAUSTED');
    expect(errorCodeOf(new Error('x'))).toBe('INTERNAL');
    expect(isManagerError(err, 'PORTS_EXHAUSTED')).toBe(true);
    expect(isManagerError(err, 'VM_CAPACITY_REACHED')).toBe(false);
    expect(isManagerError(new Error('PORTS_EXHAUSTED'), 'PORTS_EXHAUSTED')).toBe(false);
  });

  it('is the base class of every error the manager raises', () => {
    const raised: Array<[ManagerError, ErrorKind]> = [
      [new ConfigError('MANAGER_X=1: expected a port'), 'CONFIG_INVALID'],
      [new PluginError('plugin "x": no name'), 'PLUGIN_INVALID'],
      [new QemuElementError('-machine', 'bad'), 'QEMU_ARGUMENT_INVALID'],
      [new QmpError('DeviceNotFound', 'GenericError'), 'QMP_COMMAND_FAILED'],
      [new DurationSyntaxError('invalid duration'), 'CONFIG_INVALID'],
    ];
    for (const [err, kind] of raised) {
      expect(err).toBeInstanceOf(ManagerError);
      expect(err.kind).toBe(kind);
    }
    // And what core's own checks throw is one too, with its code.
    let thrown: unknown;
    try {
      new QemuCommand('  ');
    } catch (err) {
      thrown = err;
    }
    expect(isManagerError(thrown, 'QEMU_ARGUMENT_INVALID')).toBe(true);
  });
});

describe('clientErrorOf', () => {
  it('leads the message with the code, on every transport the same', () => {
    expect(clientErrorOf(new ManagerError('VM_NOT_FOUND', 'no VM with id "x"'))).toMatchObject({
      reason: 'VM_NOT_FOUND',
      code: 'NOT_FOUND',
      grpcStatus: 5,
      httpStatus: 404,
      message: 'VM_NOT_FOUND: no VM with id "x"',
      unexpected: false,
    });
  });

  it("uses the entry's message when the error has none", () => {
    expect(clientErrorOf(new ManagerError('STATE_DISK_FULL', '')).message).toBe('STATE_DISK_FULL: the state disk is full');
  });

  it('hides what is no ManagerError behind INTERNAL_ERROR', () => {
    expect(clientErrorOf(new Error('/var/lib/secret: EACCES'))).toMatchObject({
      reason: 'INTERNAL_ERROR',
      code: 'INTERNAL',
      message: 'INTERNAL_ERROR: internal error',
      unexpected: true,
    });
  });

  it("shows a start-up or log kind's generic text, not its operator text, when one reaches a call", () => {
    const failure = clientErrorOf(new QmpError("Could not open '/var/lib/cocos/vm-1/disk.img'", 'GenericError'));
    expect(failure).toMatchObject({ reason: 'QMP_COMMAND_FAILED', code: 'INTERNAL', unexpected: true });
    expect(failure.message).toBe('QMP_COMMAND_FAILED: a QMP command failed');
  });

  it('keeps the detail for the log only', () => {
    const failure = clientErrorOf(new ManagerError('VM_PREPARE_FAILED', 'the disk could not be made', { detail: '/srv/img: ENOSPC' }));
    expect(failure.message).not.toContain('/srv');
    expect(failure.detail).toBe('/srv/img: ENOSPC');
  });
});
