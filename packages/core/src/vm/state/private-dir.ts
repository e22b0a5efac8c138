import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { ManagerError } from '../../errors.js';

const PRIVATE = 0o700;

/** Opens a file for reading without following a symbolic link in its last component. */
export const READ_NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW;

/**
 * Makes sure `dir` (what: "MANAGER_RUN_DIR", …) is this manager's private
 * directory: created 0700 when missing; when it exists, refused with one line
 * if it is a symbolic link, not a directory, owned by another user, or open
 * to group or others — per-VM secrets live below it, and a directory someone
 * else controls could redirect or read them.
 */
export async function ensurePrivateDir(dir: string, what: string): Promise<void> {
  const existing = await lstat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw refuse(what, dir, `cannot be examined (${err.code ?? err.message})`);
  });
  if (!existing) {
    await mkdir(path.dirname(dir), { recursive: true, mode: PRIVATE });
    await mkdir(dir, { mode: PRIVATE }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw refuse(what, dir, `cannot be created (${err.code ?? err.message})`);
    });
    return checkPrivate(dir, what);
  }
  return checkPrivate(dir, what);
}

async function checkPrivate(dir: string, what: string): Promise<void> {
  const st = await lstat(dir);
  if (st.isSymbolicLink()) throw refuse(what, dir, 'is a symbolic link; expected a real directory');
  if (!st.isDirectory()) throw refuse(what, dir, 'is not a directory');
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw refuse(what, dir, `is owned by uid ${st.uid}, not by this manager's uid ${uid}`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) throw refuse(what, dir, `has mode ${mode.toString(8).padStart(4, '0')}, open to group or others; expected 0700 (chmod 700 it)`);
}

function refuse(what: string, dir: string, problem: string): ManagerError {
  return new ManagerError('STATE_DIR_UNSAFE', `${what} ${dir} ${problem}`);
}

/** Opens `file` for reading unless it is a symbolic link; null when it does not exist. */
export async function openNoFollow(file: string) {
  try {
    return await open(file, READ_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A directory whose entries someone else may replace: writable by group or others, unless sticky and root's (/tmp). */
function looseDir(st: { mode: number; uid: number }): boolean {
  const writableByOthers = (st.mode & 0o022) !== 0;
  const stickyRootOwned = (st.mode & 0o1000) !== 0 && st.uid === 0;
  return writableByOthers && !stickyRootOwned;
}

/**
 * Makes sure nobody but this manager (or root) can swap `dir` (what:
 * "MANAGER_QEMU_ENV_MOUNT", …) or anything above it: QEMU opens the per-VM
 * shares below it by path, so a local user who owns a loose parent could put
 * another environment in a VM's place before QEMU opens it. Every ancestor
 * must be a real directory (no symbolic link) owned by root or this manager's
 * user and not writable by group or others (a sticky root-owned directory such
 * as /tmp is accepted: nobody can rename what is ours in it). `dir` itself is
 * created 0700 when missing, and must then be ours, not a link, not writable
 * by group or others. One line names the first path that fails.
 */
export async function ensureTrustedDir(dir: string, what: string): Promise<void> {
  const target = path.resolve(dir);
  const uid = process.getuid?.();
  const trustedOwner = (owner: number) => uid === undefined || owner === uid || owner === 0;
  const ancestors: string[] = [];
  for (let p = path.dirname(target); ; p = path.dirname(p)) {
    ancestors.unshift(p);
    if (p === path.dirname(p)) break;
  }
  for (const parent of ancestors) {
    const st = await lstat(parent).catch(() => null);
    if (!st) break; // created below, by us
    const problem = st.isSymbolicLink()
      ? 'is a symbolic link'
      : !st.isDirectory()
        ? 'is not a directory'
        : !trustedOwner(st.uid)
          ? `is owned by uid ${st.uid}, neither root nor this manager's uid ${uid}`
          : looseDir(st)
            ? `is writable by group or others (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`
            : null;
    if (problem) throw refuse(what, dir, `has a parent that others control: ${parent} ${problem}`);
  }
  await mkdir(target, { recursive: true, mode: PRIVATE });
  const st = await lstat(target);
  if (st.isSymbolicLink()) throw refuse(what, dir, 'is a symbolic link; expected a real directory');
  if (!st.isDirectory()) throw refuse(what, dir, 'is not a directory');
  if (uid !== undefined && st.uid !== uid) throw refuse(what, dir, `is owned by uid ${st.uid}, not by this manager's uid ${uid}`);
  if ((st.mode & 0o022) !== 0)
    throw refuse(what, dir, `has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}, writable by group or others; expected 0700`);
}
