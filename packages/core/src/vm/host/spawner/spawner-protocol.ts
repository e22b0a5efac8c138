/**
 * The QEMU spawner's protocol: one JSON object per line, requests on the
 * helper's stdin, reports on its stdout. Types only, so the helper (run by
 * Node from the sources too, with type stripping) imports nothing at run time.
 */

/** Start `file` with `args`, stdout and stderr appended to `log` (created 0600), in a session of its own. */
export interface SpawnRequest {
  readonly t: 'spawn';
  readonly id: number;
  readonly file: string;
  readonly args: readonly string[];
  readonly log: string;
}

/** Send `signal` to process `id` while it is the helper's unreaped child; answered by a `killed` report with `req`. */
export interface KillRequest {
  readonly t: 'kill';
  readonly req: number;
  readonly id: number;
  readonly signal: string;
}

export type SpawnerRequest = SpawnRequest | KillRequest;

/** The helper is up (sent once, first). */
export interface ReadyReport {
  readonly t: 'ready';
  readonly pid: number;
}

/** Process `id` runs: its pid and /proc start time (read before it can be reaped; '' if unreadable). */
export interface SpawnedReport {
  readonly t: 'spawned';
  readonly id: number;
  readonly pid: number;
  readonly startTime: string;
}

/** Process `id` could not be started (no such file, the log could not be opened…). */
export interface FailedReport {
  readonly t: 'failed';
  readonly id: number;
  readonly message: string;
}

/** Process `id` ended and was reaped. */
export interface ExitReport {
  readonly t: 'exit';
  readonly id: number;
  readonly code: number | null;
  readonly signal: string | null;
}

export interface KilledReport {
  readonly t: 'killed';
  readonly req: number;
  readonly sent: boolean;
}

export type SpawnerReport = ReadyReport | SpawnedReport | FailedReport | ExitReport | KilledReport;
