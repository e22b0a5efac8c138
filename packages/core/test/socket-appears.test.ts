import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { socketAppears } from '../src/vm/host/socket-appears.js';

const dirs: string[] = [];
const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-socket-appears-'));
  dirs.push(dir);
  return dir;
}

/** A unix socket listening at `socket`, as QEMU's QMP chardev makes it. */
function listen(socket: string): Promise<void> {
  const server = net.createServer();
  servers.push(server);
  return new Promise((resolve) => server.listen(socket, resolve));
}

describe('socketAppears: waiting for QEMU’s QMP socket without failed connects', () => {
  it('answers true at once for a socket that is there', async () => {
    const socket = path.join(tempDir(), 'qmp.sock');
    await listen(socket);
    await expect(socketAppears(socket, 60_000)).resolves.toBe(true);
  });

  it('wakes when the socket is made, long before its window ends (inotify, not the timer)', async () => {
    const socket = path.join(tempDir(), 'qmp.sock');
    // A window far past the test's own timeout: only the directory's event can answer in time.
    const appears = socketAppears(socket, 600_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await listen(socket);
    await expect(appears).resolves.toBe(true);
  });

  it('ignores other files of the directory and answers false when its window ends without the socket', async () => {
    const dir = tempDir();
    const socket = path.join(dir, 'qmp.sock');
    const appears = socketAppears(socket, 300);
    await listen(path.join(dir, 'console.sock'));
    await expect(appears).resolves.toBe(false);
  });

  it('answers false, not an error, when the directory does not exist (a VM directory rolled back)', async () => {
    const socket = path.join(tempDir(), 'gone', 'qmp.sock');
    await expect(socketAppears(socket, 50)).resolves.toBe(false);
  });
});
