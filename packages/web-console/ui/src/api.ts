// The manager's HTTP API as the console uses it: same origin, a bearer token
// when the operator gave one (kept for this tab only), errors as the API words them.

export interface WireVm {
  readonly id: string;
  readonly state: string;
  readonly forwarded_port: string;
  readonly pid: number;
  readonly backend: string;
  readonly boot: string;
  readonly created_at: string;
  readonly ttl_deadline: string;
  readonly guest_status: string;
  readonly adopted: boolean;
  readonly exit: { code: number; signal: string; reason: string } | null;
  /** The GPU plugin's field: absent in a build without it. */
  readonly gpus?: readonly string[];
}

export interface Session {
  readonly identity: string;
  readonly role: 'reader' | 'admin';
  readonly via: string;
  readonly auth_enabled: boolean;
  readonly can_write: boolean;
  readonly rest_writes: boolean;
}

export interface HostView {
  readonly version: string;
  readonly instance_id: string;
  readonly started_at: string;
  readonly backend: string;
  readonly probe: { available: boolean; reason: string };
  readonly kvm: boolean;
  readonly vm_slots: { used: number; size: number };
  readonly port_pool: { in_use: number; size: number };
  /** The GPU plugin's fields (absent, or a null pool: no GPU plugin loaded). */
  readonly gpus_in_use?: readonly string[];
  readonly gpu_pool?: readonly string[] | null;
}

export interface LifecycleEvent {
  readonly kind: 'lifecycle';
  readonly vmId: string;
  readonly state: string;
  readonly previous: string | null;
  readonly at: string;
  readonly detail: string;
}
export interface ConsoleEvent {
  readonly kind: 'console';
  readonly vmId: string;
  readonly line: string;
  readonly at: string;
}
/** A log or an event of a VM's agent (SSE `event: agent`, GET /vms/{id}/agent): the guest's own text. */
export type AgentMessage =
  | {
      readonly kind: 'log';
      readonly vmId: string;
      readonly at: string;
      readonly computationId: string;
      readonly level: string;
      readonly message: string;
      readonly timestamp: string | null;
    }
  | {
      readonly kind: 'event';
      readonly vmId: string;
      readonly at: string;
      readonly computationId: string;
      readonly eventType: string;
      readonly status: string;
      readonly originator: string;
      readonly details: string;
      readonly timestamp: string | null;
    };
export type StreamEvent = LifecycleEvent | ConsoleEvent | AgentMessage;

/** An API error: its HTTP status and the `{error: {code, message}}` body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The request field the manager says the failure is about (`error.field`), when it names one. */
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'cocos-manager.token';

export function setToken(token: string): void {
  if (token === '') sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; field?: string } };
    return new ApiError(res.status, body.error?.code ?? String(res.status), body.error?.message ?? text, body.error?.field ?? null);
  } catch {
    return new ApiError(res.status, String(res.status), text || res.statusText);
  }
}

export async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  if (!res.ok) throw await failure(res);
  return res;
}

export const getJson = async <T>(path: string): Promise<T> => (await request('GET', path)).json() as Promise<T>;
export const getText = async (path: string): Promise<string> => (await request('GET', path)).text();

/**
 * Reads a streaming response line by line until `signal` aborts it or the
 * server ends it. fetch rather than EventSource: EventSource cannot send the
 * Authorization header.
 */
export async function streamLines(path: string, signal: AbortSignal, onLine: (line: string) => void): Promise<void> {
  const res = await fetch(path, { headers: headers(), signal, cache: 'no-store' });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += value;
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    lines.forEach(onLine);
  }
  if (rest !== '') onLine(rest);
}

/** The server-sent events of /events, parsed. */
export function streamEvents(path: string, signal: AbortSignal, onEvent: (event: StreamEvent) => void): Promise<void> {
  return streamLines(path, signal, (line) => {
    if (line.startsWith('data: ')) onEvent(JSON.parse(line.slice(6)) as StreamEvent);
  });
}

/** Runs `task`, swallowing the abort a page change causes. */
export function quietAbort(err: unknown): void {
  if (err instanceof DOMException && err.name === 'AbortError') return;
  if (err instanceof TypeError && /abort|network/i.test(err.message)) return;
  console.warn('stream ended:', err);
}
