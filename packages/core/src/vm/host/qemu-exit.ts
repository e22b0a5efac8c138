import { open } from 'node:fs/promises';
import type { VmExit } from '../../api/vm-types.js';

/** Reads the last `maxLines` lines of a console log (for exit reasons). */
export async function tailLines(file: string, maxLines: number, maxBytes = 16 * 1024): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    await handle.read(buf, 0, buf.length, start);
    return buf
      .toString('utf8')
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .slice(-maxLines);
  } finally {
    await handle.close();
  }
}

/** The console's last lines that explain an exit: QEMU's own warnings (TCG feature notes) left out. */
export async function lastMeaningfulLines(file: string, count = 5): Promise<string[]> {
  const lines = await tailLines(file, 200);
  return lines.filter((l) => !/^qemu-system-[\w-]+: warning:/.test(l)).slice(-count);
}

/** How a QEMU whose status we reaped ended, with its console's last meaningful lines. */
export async function describeQemuExit(consoleLog: string, code: number | null, signal: string | null): Promise<VmExit> {
  const last = await lastMeaningfulLines(consoleLog);
  const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
  const reason = last.length > 0 ? `QEMU ${how}; last output: ${last.join(' | ')}` : `QEMU ${how}`;
  return { code, signal, reason };
}
