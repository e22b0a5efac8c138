import type { DeviceAssignment } from '../../api/vm-device.js';
import { VmState, type VmExit } from '../../api/vm-types.js';

export const STATE_VERSION = 1;

/** What survives a manager restart about one VM. Never secrets. */
export interface VmStateRecord {
  readonly version: typeof STATE_VERSION;
  readonly id: string;
  readonly state: VmState;
  readonly pid: number | null;
  readonly pidStartTime: string | null;
  readonly hostPort: number;
  readonly backend: string;
  readonly boot: string;
  readonly createdAt: string;
  /** Absolute deadline (ISO 8601) so a restart keeps the original expiry. */
  readonly ttlDeadline: string | null;
  readonly kernelCommandLine: string;
  readonly exit: VmExit | null;
  /** What VM devices (passed-through PCI devices…) gave the VM; absent in records written before devices existed (read as none). */
  readonly devices?: readonly DeviceAssignment[];
}

export const VM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const STATES = new Set<string>(Object.values(VmState));
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** Linux's pid_max limit (2^22). */
const PID_MAX = 4_194_304;
/** Bounds on free text a record carries (a kernel command line is at most a few KiB). */
const MAX_TEXT = 8192;

type Check = (value: unknown) => string | null;

const text: Check = (v) => (typeof v === 'string' && v.length <= MAX_TEXT && !v.includes('\0') ? null : `must be a string (at most ${MAX_TEXT} characters)`);
const name: Check = (v) => (typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v) ? null : 'must be a plugin name (letters, digits, . _ -)');
const orNull =
  (check: Check): Check =>
  (v) =>
    v === null ? null : check(v);
const intIn =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : `must be an integer from ${min} to ${max}`;
const isoDate: Check = (v) =>
  typeof v === 'string' && ISO_DATE.test(v) && Number.isFinite(Date.parse(v)) ? null : 'must be an ISO 8601 UTC date (YYYY-MM-DDTHH:MM:SS.sssZ)';
// Empty when /proc could not be read at spawn (the record then cannot prove the pid's identity).
const startTime: Check = (v) => (typeof v === 'string' && /^\d{0,20}$/.test(v) ? null : 'must be a decimal string (clock ticks)');
const state: Check = (v) => (typeof v === 'string' && STATES.has(v) ? null : `must be one of ${[...STATES].join(', ')}`);
const signal: Check = (v) => (typeof v === 'string' && /^SIG[A-Z0-9+-]{1,12}$/.test(v) ? null : 'must be a signal name such as SIGKILL');
const exitShape: Check = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be null or { code, signal, reason }';
  const e = v as Record<string, unknown>;
  return firstProblem(e, { code: orNull(intIn(-255, 255)), signal: orNull(signal), reason: text }, 'exit.');
};

/** Bounds on a device assignment: a handful of short strings. */
const MAX_DEVICES = 16;
const MAX_DEVICE_VALUES = 16;
const valueKey = /^[A-Za-z][A-Za-z0-9_-]{0,31}$/;
const shortText: Check = (v) => (typeof v === 'string' && v.length <= 256 && !v.includes('\0') ? null : 'must be a string (at most 256 characters)');
const assignment: Check = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be { device, values }';
  const a = v as Record<string, unknown>;
  const problem = firstProblem(a, { device: name }, 'devices[].');
  if (problem) return problem;
  const values = a['values'];
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return 'values must be an object of strings';
  const entries = Object.entries(values);
  if (entries.length > MAX_DEVICE_VALUES) return `values must have at most ${MAX_DEVICE_VALUES} entries`;
  for (const [key, value] of entries) {
    if (!valueKey.test(key)) return `values key ${describe(key)} must be a short name (letters, digits, _ -)`;
    const bad = shortText(value);
    if (bad) return `values.${key} ${bad}`;
  }
  return null;
};
const devices: Check = (v) => {
  if (!Array.isArray(v) || v.length > MAX_DEVICES) return `must be a list of at most ${MAX_DEVICES} device assignments`;
  for (const item of v) {
    const problem = assignment(item);
    if (problem) return problem;
  }
  return null;
};

const FIELDS: Record<Exclude<keyof VmStateRecord, 'devices'>, Check> = {
  version: (v) => (v === STATE_VERSION ? null : `must be ${STATE_VERSION}`),
  id: (v) => (typeof v === 'string' && VM_ID.test(v) ? null : 'must be a lower-case UUID'),
  state,
  pid: orNull(intIn(1, PID_MAX)),
  pidStartTime: orNull(startTime),
  hostPort: intIn(1, 65535),
  backend: name,
  boot: name,
  createdAt: isoDate,
  ttlDeadline: orNull(isoDate),
  kernelCommandLine: text,
  exit: orNull(exitShape),
};

function firstProblem(value: Record<string, unknown>, checks: Record<string, Check>, prefix = ''): string | null {
  for (const [key, check] of Object.entries(checks)) {
    if (!(key in value)) return `${prefix}${key} is missing`;
    const problem = check(value[key]);
    if (problem) return `${prefix}${key} ${problem} (got ${describe(value[key])})`;
  }
  return null;
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

/**
 * Checks one state file's content: every field present with its type and
 * range, the id equal to the file's name. A state file is input — a record
 * that fails here is never acted on (no pid signalled, no path removed).
 */
export function parseStateRecord(raw: string, fileId: string): { record: VmStateRecord } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { problem: `not JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'not a JSON object' };
  const fields = value as Record<string, unknown>;
  if (fields['version'] !== STATE_VERSION) return { problem: `state version ${describe(fields['version'])} is not ${STATE_VERSION}` };
  const problem = firstProblem(fields, FIELDS);
  if (problem) return { problem };
  if (fields['id'] !== fileId) return { problem: `id ${describe(fields['id'])} differs from the file name's ${fileId}` };
  if ((fields['pid'] === null) !== (fields['pidStartTime'] === null)) return { problem: 'pid and pidStartTime must both be set or both be null' };
  // Optional: records from before VM devices existed have none (and are read back as they are).
  if ('devices' in fields) {
    const devicesProblem = devices(fields['devices']);
    if (devicesProblem) return { problem: `devices ${devicesProblem} (got ${describe(fields['devices'])})` };
  }
  return { record: fields as unknown as VmStateRecord };
}
