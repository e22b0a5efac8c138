import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { VmExit, VmState } from './types.js';

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
}

const ID_FILE = /^[0-9a-f-]{36}\.json$/;

/**
 * One JSON file per VM under MANAGER_STATE_DIR, each written atomically
 * (temporary file, fsync, rename, fsync of the directory) so a crash leaves
 * either the old or the new record, never a torn one.
 */
export class StateStore {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  async save(record: VmStateRecord): Promise<void> {
    const target = this.file(record.id);
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async remove(id: string): Promise<void> {
    await rm(this.file(id), { force: true });
  }

  /** Every readable record; unreadable or foreign-version files are reported, not loaded. */
  async loadAll(): Promise<{ records: VmStateRecord[]; problems: string[] }> {
    const records: VmStateRecord[] = [];
    const problems: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return { records, problems };
    }
    for (const name of names) {
      if (name.endsWith('.tmp')) {
        await rm(path.join(this.dir, name), { force: true }); // a write the crash interrupted
        continue;
      }
      if (!ID_FILE.test(name)) continue;
      try {
        const record = JSON.parse(await readFile(path.join(this.dir, name), 'utf8')) as VmStateRecord;
        if (record.version !== STATE_VERSION) {
          problems.push(`${name}: state version ${String(record.version)} is not ${STATE_VERSION}`);
          continue;
        }
        records.push(record);
      } catch (err) {
        problems.push(`${name}: ${(err as Error).message}`);
      }
    }
    return { records, problems };
  }

  /** Ids that have a state file. */
  async ids(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((n) => ID_FILE.test(n)).map((n) => n.slice(0, -5));
    } catch {
      return [];
    }
  }
}
