import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, openNoFollow } from './private-dir.js';
import { NODE_STATE_FILE_SYSTEM, type StateFile, type StateFileSystem } from './state-file-system.js';
import { parseStateRecord, VM_ID, type VmStateRecord } from './state-record.js';
import { stateWriteError, stateWriteFailureOf, type StateWriteFailure, type StateWriteStep } from './state-write-error.js';
import { ManagerError } from '../../errors.js';
import { nodeCrypto } from '../../node-builtins.js';

const { randomBytes } = nodeCrypto;

export { STATE_VERSION, type VmStateRecord } from './state-record.js';
export { NODE_STATE_FILE_SYSTEM, type StateFile, type StateFileSystem } from './state-file-system.js';
export { stateWriteError, type StateWriteFailure, type StateWriteStep } from './state-write-error.js';

const ID_FILE = /^[0-9a-f-]{36}\.json$/;
/** Where records that fail validation are moved: inside the state directory, never acted on. */
export const QUARANTINE_DIR = 'quarantine';
/** A state file is a few hundred bytes; anything much larger is not one of ours. */
const MAX_RECORD_BYTES = 64 * 1024;
/** State files read at once on load. */
const READ_BATCH = 32;

/** A record written to its temporary file and fsynced, not yet renamed into place (StateStore.prepare). */
export interface PreparedRecord {
  readonly target: string;
  readonly temp: string;
}

/** A state file that failed validation and was moved aside. */
export interface QuarantinedRecord {
  readonly file: string;
  readonly problem: string;
  /** Where it now is, inside <stateDir>/quarantine/ (null when it could not be moved and was left). */
  readonly movedTo: string | null;
}

/**
 * One JSON file per VM under MANAGER_STATE_DIR, each written atomically
 * (temporary file, fsync, rename, fsync of the directory) so a crash leaves
 * either the old or the new record, never a torn one. Records are input on
 * load: each is validated, and a bad one is moved into quarantine/.
 */
export class StateStore {
  private readonly failures = new Map<StateWriteFailure, number>([
    ['disk-full', 0],
    ['other', 0],
  ]);

  constructor(
    readonly dir: string,
    private readonly fs: StateFileSystem = NODE_STATE_FILE_SYSTEM,
  ) {}

  /** Creates the directory 0700, or refuses one that is not private to this manager. */
  async init(): Promise<void> {
    await ensurePrivateDir(this.dir, 'MANAGER_STATE_DIR');
  }

  file(id: string): string {
    if (!VM_ID.test(id)) throw new ManagerError('STATE_RECORD_INVALID', `not a VM id: ${JSON.stringify(id)}`);
    return path.join(this.dir, `${id}.json`);
  }

  /**
   * Writes `record` atomically. On any failure — creating, writing, fsync or
   * renaming the temporary file — the temporary file is removed and the
   * catalogue error is thrown (STATE_DISK_FULL for ENOSPC/EDQUOT, else
   * STATE_WRITE_FAILED), and the failure is counted.
   */
  async save(record: VmStateRecord): Promise<void> {
    await this.commit(await this.prepare(record));
  }

  /**
   * The first half of `save`: `record` in its own temporary file, fsynced,
   * not yet in place. `commit` renames it over the record; `discard` removes
   * it. A record known before it is the state (a create's Running record,
   * while QEMU starts) is so written ahead, and only the rename is left.
   * Fails as `save` does (temporary file removed, failure counted).
   */
  async prepare(record: VmStateRecord): Promise<PreparedRecord> {
    const target = this.file(record.id);
    const temp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    let step: StateWriteStep = 'create';
    let handle: StateFile | null = null;
    try {
      // 'wx' is O_CREAT|O_EXCL: fails on anything already there, a symbolic link included.
      handle = await this.fs.open(temp, 'wx', 0o600);
      step = 'write';
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
      step = 'fsync';
      await handle.sync();
      step = 'close';
      const closing = handle;
      handle = null;
      await closing.close();
      return { target, temp };
    } catch (err) {
      await handle?.close().catch(() => undefined);
      // Only a temporary file this write created (an O_EXCL collision is someone else's).
      if (step !== 'create') await this.fs.remove(temp).catch(() => undefined);
      throw this.failed(err, step);
    }
  }

  /** Puts a prepared record in place: rename, then the directory's fsync. */
  async commit(prepared: PreparedRecord): Promise<void> {
    let step: StateWriteStep = 'rename';
    try {
      // rename replaces the directory entry itself, never what a link there points to.
      await this.fs.rename(prepared.temp, prepared.target);
      step = 'directory fsync';
      await this.fs.syncDirectory(this.dir);
    } catch (err) {
      // After the rename there is no temporary file left.
      if (step === 'rename') await this.fs.remove(prepared.temp).catch(() => undefined);
      throw this.failed(err, step);
    }
  }

  /** A prepared record that will not be used: its temporary file removed (best effort; a restart removes any left). */
  async discard(prepared: PreparedRecord): Promise<void> {
    await this.fs.remove(prepared.temp).catch(() => undefined);
  }

  private failed(err: unknown, step: StateWriteStep): ManagerError {
    const why = stateWriteFailureOf(err);
    this.failures.set(why, (this.failures.get(why) ?? 0) + 1);
    return stateWriteError(err, step);
  }

  /** Failed state writes since start, by why (the metric's source). */
  writeFailures(): ReadonlyMap<StateWriteFailure, number> {
    return this.failures;
  }

  async remove(id: string): Promise<void> {
    await rm(this.file(id), { force: true });
  }

  /**
   * Every valid record; the others are moved into quarantine/ and reported
   * (`quarantined`, and as `<file>: <problem>` lines in `problems`), never loaded.
   */
  async loadAll(): Promise<{ records: VmStateRecord[]; quarantined: QuarantinedRecord[]; problems: string[] }> {
    const records: VmStateRecord[] = [];
    const quarantined: QuarantinedRecord[] = [];
    const result = () => ({ records, quarantined, problems: quarantined.map((q) => `${q.file}: ${q.problem}`) });
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return result();
    }
    for (const name of names.filter((n) => n.endsWith('.tmp'))) await rm(path.join(this.dir, name), { force: true }); // writes a crash interrupted
    const files = names.filter((n) => ID_FILE.test(n));
    // Read READ_BATCH at a time: a thousand records one after the other took half a second of a restart.
    for (let at = 0; at < files.length; at += READ_BATCH) {
      const batch = files.slice(at, at + READ_BATCH);
      for (const [i, read] of (await Promise.all(batch.map((name) => this.read(name)))).entries()) {
        if ('record' in read) records.push(read.record);
        else quarantined.push(await this.quarantine(batch[i] as string, read.problem));
      }
    }
    // A rename the last manager made without its directory fsync (it died in between) is made durable
    // here: an unchanged record is then not written again (VmStateWriter.loadedAs). Best effort.
    if (files.length > 0) await this.fs.syncDirectory(this.dir).catch(() => undefined);
    return result();
  }

  /** Ids that have a state file. */
  async ids(): Promise<string[]> {
    try {
      return (await readdir(this.dir))
        .filter((n) => ID_FILE.test(n))
        .map((n) => n.slice(0, -5))
        .filter((id) => VM_ID.test(id));
    } catch {
      return [];
    }
  }

  private async read(name: string): Promise<{ record: VmStateRecord } | { problem: string }> {
    let handle;
    try {
      handle = await openNoFollow(path.join(this.dir, name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { problem: code === 'ELOOP' ? 'is a symbolic link' : `cannot be read (${code ?? (err as Error).message})` };
    }
    if (!handle) return { problem: 'vanished while loading' };
    try {
      const st = await handle.stat();
      if (!st.isFile()) return { problem: 'is not a regular file' };
      if (st.size > MAX_RECORD_BYTES) return { problem: `is ${st.size} bytes, larger than a state record can be (${MAX_RECORD_BYTES})` };
      return parseStateRecord(await handle.readFile('utf8'), name.slice(0, -5));
    } finally {
      await handle.close();
    }
  }

  /** Moves a bad record into <stateDir>/quarantine/<name>.<timestamp>: out of the way, kept for the operator. */
  private async quarantine(name: string, problem: string): Promise<QuarantinedRecord> {
    const from = path.join(this.dir, name);
    const dir = path.join(this.dir, QUARANTINE_DIR);
    const to = path.join(dir, `${name}.${new Date().toISOString().replace(/[:.]/g, '-')}.${randomBytes(2).toString('hex')}`);
    try {
      await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      const st = await lstat(dir);
      if (!st.isDirectory() || st.isSymbolicLink()) throw new ManagerError('STATE_DIR_UNSAFE', `${dir} is not a directory`);
      await rename(from, to);
      return { file: name, problem, movedTo: to };
    } catch {
      return { file: name, problem, movedTo: null };
    }
  }
}
