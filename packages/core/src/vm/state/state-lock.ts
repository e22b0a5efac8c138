import { link, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ManagerError } from '../../errors.js';
import { readStartTime } from '../host/process-identity.js';
import { READ_NOFOLLOW } from './private-dir.js';
import { nodeCrypto } from '../../node-builtins.js';

const { randomBytes } = nodeCrypto;

export const LOCK_FILE = 'manager.lock';

/**
 * One manager per state directory: `<stateDir>/manager.lock`, created
 * exclusively (link(2) of a fully written file), holds the holder's pid and its start time. A lock whose holder is
 * gone (no such pid, or the pid now belongs to a process started at another
 * time) is stale and taken over; a live holder stops this manager at start.
 */
export class StateLock {
  private held: string | null = null;

  constructor(private readonly stateDir: string) {}

  get file(): string {
    return path.join(this.stateDir, LOCK_FILE);
  }

  async acquire(): Promise<void> {
    const self = `${process.pid} ${(await readStartTime(process.pid)) ?? ''}\n`;
    for (let attempt = 0; attempt < 3; attempt++) {
      // Written whole under a private name, then linked into place: link() fails if the lock
      // exists, and the lock is never seen half-written.
      const temp = `${this.file}.${randomBytes(4).toString('hex')}.tmp`;
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(self);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await link(temp, this.file);
        this.held = self;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        await rm(temp, { force: true });
      }
      const holder = await this.holder();
      if (holder.alive) {
        throw new ManagerError(
          'STATE_LOCKED',
          `another manager (pid ${holder.pid}) already uses the state directory ${this.stateDir}; stop it first or give this one its own MANAGER_STATE_DIR`,
        );
      }
      // Stale: its holder is gone. Remove it and try again. (Two managers taking over one stale
      // lock in the same millisecond could both get in; systemd starts one unit at a time.)
      await rm(this.file, { force: true });
    }
    throw new ManagerError('STATE_LOCKED', `cannot take the lock ${this.file}: it keeps being re-created`);
  }

  /** Removes the lock if it is still ours. */
  async release(): Promise<void> {
    if (this.held === null) return;
    const content = await readFile(this.file, { encoding: 'utf8', flag: READ_NOFOLLOW }).catch(() => null);
    if (content === this.held) await rm(this.file, { force: true });
    this.held = null;
  }

  private async holder(): Promise<{ pid: number | null; alive: boolean }> {
    const content = await readFile(this.file, { encoding: 'utf8', flag: READ_NOFOLLOW }).catch(() => '');
    const m = /^(\d{1,7}) (\d*)\n?$/.exec(content);
    if (!m) return { pid: null, alive: false }; // not a lock we write (locks are never seen half-written)
    const pid = Number(m[1]);
    const started = await readStartTime(pid);
    return { pid, alive: started !== null && (m[2] === '' || started === m[2]) };
  }
}
