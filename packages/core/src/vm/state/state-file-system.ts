import { open, rename, rm } from 'node:fs/promises';

/** An open temporary state file. */
export interface StateFile {
  writeFile(data: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The few filesystem calls a state write makes, as a seam: the real one is
 * node's; a test kit's can fail any of them the way a full or broken disk
 * does (ENOSPC on write, EIO on fsync, a failing rename).
 */
export interface StateFileSystem {
  /** Opens `file` with `flags` ('wx': create exclusively) and `mode`. */
  open(file: string, flags: string, mode: number): Promise<StateFile>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; nothing there is no error. */
  remove(file: string): Promise<void>;
  /** fsync of a directory, so a rename in it is durable. */
  syncDirectory(dir: string): Promise<void>;
}

export const NODE_STATE_FILE_SYSTEM: StateFileSystem = {
  open: (file, flags, mode) => open(file, flags, mode),
  rename,
  remove: (file) => rm(file, { force: true }),
  async syncDirectory(dir) {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
};
