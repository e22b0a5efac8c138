import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { SpawnerReport, SpawnerRequest } from './spawner-protocol.js';

/** What becomes of one process asked of the spawner; each callback at most once, `spawned` before `exited`. */
export interface SpawnEvents {
  spawned(pid: number, startTime: string): void;
  failed(message: string): void;
  exited(code: number | null, signal: string | null): void;
  /** The spawner is gone before reporting this process's end: it runs on (or ended unseen) with init as its parent. */
  orphaned(): void;
}

export interface SpawnOrder {
  readonly file: string;
  readonly args: readonly string[];
  readonly log: string;
}

/**
 * The manager's end of one spawner's protocol (spawner-protocol.ts): sends
 * requests, routes reports to the process they concern, and when the
 * spawner's stdout ends (it died, or was told to go) tells every process not
 * yet reported ended that it is orphaned and answers pending kills with null.
 */
export class SpawnerChannel {
  /** The spawner's pid, once it said it is up; rejects if it went before that. */
  readonly ready: Promise<number>;
  /** Settles when the channel is closed. */
  readonly closed: Promise<void>;
  private readonly procs = new Map<number, SpawnEvents>();
  private readonly kills = new Map<number, (sent: boolean | null) => void>();
  private nextId = 1;
  private nextReq = 1;
  private open = true;
  private markReady!: (pid: number) => void;
  private markClosed!: () => void;

  constructor(
    input: Readable,
    private readonly output: Writable,
  ) {
    let failReady!: (err: Error) => void;
    this.ready = new Promise<number>((resolve, reject) => {
      this.markReady = resolve;
      failReady = reject;
    });
    this.ready.catch(() => undefined);
    this.closed = new Promise<void>((resolve) => (this.markClosed = resolve)).then(() => failReady(new Error('the QEMU spawner exited before it was ready')));
    // A write to a spawner that died fails with EPIPE: the end of its stdout says the same, and is handled there.
    output.on('error', () => this.shut());
    input.on('error', () => this.shut());
    const lines = createInterface({ input, crlfDelay: Infinity });
    lines.on('line', (line) => this.receive(line));
    lines.once('close', () => this.shut());
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Asks for a process; its fate arrives through `events` (at once `orphaned`, if the channel is closed). */
  spawn(order: SpawnOrder, events: SpawnEvents): number {
    const id = this.nextId++;
    // Registered before it is sent: over an in-memory pipe the answer can come back within the write.
    this.procs.set(id, events);
    if (!this.send({ t: 'spawn', id, file: order.file, args: order.args, log: order.log })) {
      this.procs.delete(id);
      events.orphaned();
    }
    return id;
  }

  /** Signals process `id` through the spawner: whether it was sent, or null when the spawner is gone. */
  kill(id: number, signal: NodeJS.Signals): Promise<boolean | null> {
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.kills.set(req, resolve);
      if (this.send({ t: 'kill', req, id, signal })) return;
      this.kills.delete(req);
      resolve(null);
    });
  }

  /** Ends the spawner's stdin: it exits (leaving its children running); the channel closes when its stdout ends. */
  end(): void {
    this.output.end();
  }

  private send(request: SpawnerRequest): boolean {
    if (!this.open || !this.output.writable) return false;
    this.output.write(`${JSON.stringify(request)}\n`);
    return true;
  }

  private receive(line: string): void {
    let report: SpawnerReport;
    try {
      report = JSON.parse(line) as SpawnerReport;
    } catch {
      return; // not the protocol: nothing to route
    }
    switch (report.t) {
      case 'ready':
        return this.markReady(report.pid);
      case 'spawned':
        return this.procs.get(report.id)?.spawned(report.pid, report.startTime);
      case 'failed':
        this.procs.get(report.id)?.failed(report.message);
        this.procs.delete(report.id);
        return;
      case 'exit':
        this.procs.get(report.id)?.exited(report.code, report.signal);
        this.procs.delete(report.id);
        return;
      case 'killed':
        this.kills.get(report.req)?.(report.sent);
        this.kills.delete(report.req);
        return;
    }
  }

  private shut(): void {
    if (!this.open) return;
    this.open = false;
    // Orphans first, so a kill answered null finds its process already supervised as adopted.
    for (const events of this.procs.values()) events.orphaned();
    this.procs.clear();
    for (const resolve of this.kills.values()) resolve(null);
    this.kills.clear();
    this.markClosed();
  }
}
