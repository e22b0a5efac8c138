import { constants } from 'node:fs';
import { lstat, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { ManagerError } from '../errors.js';

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
  return ManagerError.failedPrecondition(`${what} ${dir} ${problem}`);
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
