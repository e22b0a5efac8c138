import { existsSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Resolves true once `socket` exists — at once if it does, else when its
 * directory reports it created (inotify) — or with whether it exists after
 * `withinMs`. A start waits for QEMU's QMP socket this way instead of by
 * connecting every 20 ms: under ten concurrent creates each failed connect
 * (a socket, an error with its stack) was about a tenth of the manager's
 * CPU per create (BENCHMARKS.md, issue 24).
 */
export function socketAppears(socket: string, withinMs: number): Promise<boolean> {
  const name = path.basename(socket);
  return new Promise((resolve) => {
    let settled = false;
    let watcher: FSWatcher | undefined;
    const settle = (exists: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      watcher?.close();
      resolve(exists);
    };
    const timer = setTimeout(() => settle(existsSync(socket)), withinMs);
    try {
      watcher = watch(path.dirname(socket), { persistent: false }, (_event, file) => {
        if (file === name) settle(true);
      });
      watcher.on('error', () => undefined); // the directory removed meanwhile: the timer answers
    } catch {
      // No directory (yet) or no inotify: the timer answers.
    }
    // Checked after the watch is set: a socket made in between is seen one way or the other.
    if (existsSync(socket)) settle(true);
  });
}
