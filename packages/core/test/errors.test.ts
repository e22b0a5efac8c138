import { describe, expect, it } from 'vitest';
import { clientErrorOf, ERROR_CATALOGUE, ErrorCode, errorCodeOf, ManagerError, type ErrorCatalogueEntry, type ErrorKind } from '../src/index.js';

/** The statuses each kind must map to: gRPC (doc/statuscodes.md) and HTTP. */
const EXPECTED: Record<ErrorKind, [ErrorCode, number, number]> = {
  'invalid-argument': ['INVALID_ARGUMENT', 3, 400],
  'payload-too-large': ['INVALID_ARGUMENT', 3, 413],
  'unsupported-media-type': ['INVALID_ARGUMENT', 3, 415],
  'not-found': ['NOT_FOUND', 5, 404],
  'vm-capacity': ['RESOURCE_EXHAUSTED', 8, 429],
  ports: ['RESOURCE_EXHAUSTED', 8, 503],
  'failed-precondition': ['FAILED_PRECONDITION', 9, 412],
  'deadline-exceeded': ['DEADLINE_EXCEEDED', 4, 504],
  unauthenticated: ['UNAUTHENTICATED', 16, 401],
  'permission-denied': ['PERMISSION_DENIED', 7, 403],
  internal: ['INTERNAL', 13, 500],
  'state-disk-full': ['RESOURCE_EXHAUSTED', 8, 507],
  'state-write-failed': ['INTERNAL', 13, 500],
};

describe('error catalogue', () => {
  it.each(Object.entries(EXPECTED))('%s → %j', (kind, [code, grpcStatus, httpStatus]) => {
    expect(ERROR_CATALOGUE[kind as ErrorKind]).toMatchObject({ code, grpcStatus, httpStatus });
  });

  it('lists every code, and nothing the expectations do not', () => {
    expect(Object.keys(ERROR_CATALOGUE).sort()).toEqual(Object.keys(EXPECTED).sort());
    expect(new Set(Object.values(ERROR_CATALOGUE).map((e) => e.code))).toEqual(new Set(Object.values(ErrorCode)));
  });

  it('gives each entry a one-line client message that names no internals', () => {
    for (const entry of Object.values(ERROR_CATALOGUE)) {
      expect(entry.clientMessage).toMatch(/^[a-z][a-zA-Z ]+$/);
    }
  });
});

describe('ManagerError', () => {
  it.each([
    [ManagerError.invalidArgument('m'), 'invalid-argument', 'INVALID_ARGUMENT'],
    [ManagerError.notFound('m'), 'not-found', 'NOT_FOUND'],
    [ManagerError.resourceExhausted('m'), 'vm-capacity', 'RESOURCE_EXHAUSTED'],
    [ManagerError.resourceExhausted('m', 'vm-capacity'), 'vm-capacity', 'RESOURCE_EXHAUSTED'],
    [ManagerError.resourceExhausted('m', 'ports'), 'ports', 'RESOURCE_EXHAUSTED'],
    [ManagerError.failedPrecondition('m'), 'failed-precondition', 'FAILED_PRECONDITION'],
    [ManagerError.deadlineExceeded('m'), 'deadline-exceeded', 'DEADLINE_EXCEEDED'],
    [ManagerError.unauthenticated('m'), 'unauthenticated', 'UNAUTHENTICATED'],
    [ManagerError.permissionDenied('m'), 'permission-denied', 'PERMISSION_DENIED'],
    [ManagerError.internal('m'), 'internal', 'INTERNAL'],
  ])('%s is %s with code %s', (err, kind, code) => {
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'ManagerError', kind, code, message: 'm' });
    expect(errorCodeOf(err)).toBe(code);
  });

  it('names the exhausted resource', () => {
    expect(ManagerError.resourceExhausted('m', 'ports').resource).toBe('ports');
    expect(ManagerError.resourceExhausted('m').resource).toBe('vm-capacity');
    expect(ManagerError.notFound('m').resource).toBeUndefined();
  });

  it('keeps the cause of an internal error', () => {
    const cause = new Error('disk full');
    expect(ManagerError.internal('saving state failed', cause).cause).toBe(cause);
  });
});

describe('clientErrorOf', () => {
  it('passes a ManagerError message through with its statuses', () => {
    expect(clientErrorOf(ManagerError.resourceExhausted('no free host port in 6100-6200', 'ports'))).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      grpcStatus: 8,
      httpStatus: 503,
      message: 'no free host port in 6100-6200',
      unexpected: false,
    });
    expect(clientErrorOf(ManagerError.internal('QEMU exited during start-up'))).toMatchObject({
      grpcStatus: 13,
      message: 'QEMU exited during start-up',
      unexpected: false,
    });
  });

  it('leads with the stable reason of entries that have one (STATE_DISK_FULL, STATE_WRITE_FAILED), and only those', () => {
    const full = new ManagerError('state-disk-full', 'the state disk is full (ENOSPC at write)');
    expect(full).toMatchObject({ code: 'RESOURCE_EXHAUSTED', reason: 'STATE_DISK_FULL', resource: 'state-disk' });
    expect(clientErrorOf(full)).toMatchObject({ grpcStatus: 8, httpStatus: 507, message: 'STATE_DISK_FULL: the state disk is full (ENOSPC at write)' });
    expect(clientErrorOf(new ManagerError('state-write-failed', ''))).toMatchObject({
      grpcStatus: 13,
      message: 'STATE_WRITE_FAILED: the VM state could not be saved',
    });
    const reasons = Object.values<ErrorCatalogueEntry>(ERROR_CATALOGUE).flatMap((e) => (e.reason ? [e.reason] : []));
    expect(new Set(reasons).size).toBe(reasons.length);
    for (const reason of reasons) expect(reason).toMatch(/^[A-Z][A-Z_]+$/);
    expect(clientErrorOf(ManagerError.notFound('no VM')).message).toBe('no VM');
  });

  it('falls back to the catalogue message when a ManagerError has none', () => {
    expect(clientErrorOf(ManagerError.notFound(''))).toMatchObject({ httpStatus: 404, message: 'not found' });
  });

  it.each([
    [new Error('EACCES: permission denied, open /var/lib/secret')],
    [new TypeError("cannot read properties of undefined (reading 'pid')")],
    ['a string'],
    [undefined],
    [{ code: 'NOT_FOUND' }],
  ])('withholds the text of %j: INTERNAL, "internal error", unexpected', (err) => {
    expect(clientErrorOf(err)).toMatchObject({
      kind: 'internal',
      code: 'INTERNAL',
      grpcStatus: 13,
      httpStatus: 500,
      message: 'internal error',
      unexpected: true,
    });
    expect(errorCodeOf(err)).toBe('INTERNAL');
  });
});
