import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';

import type { LaunchSpec, QmpConnection } from '../src/index.js';
import { LivenessWatch, SpawnedQemu, SpawnerChannel, SpawnerClient, type SpawnEvents } from '../src/internal.js';
import { serve } from '../src/vm/host/spawner/spawner-main.js';

const dirs: string[] = [];
const pids: number[] = [];
const clients: SpawnerClient[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'cm-spawner-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Fields after the command name in /proc/<pid>/stat (index 0 = state, 1 = ppid, 2 = pgrp, 3 = session, 19 = start time); null when gone. */
function stat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}
const alive = (pid: number) => {
  const s = stat(pid);
  return s !== null && s[0] !== 'Z';
};
async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Spawn events as promises. */
function events() {
  let spawned!: (v: { pid: number; startTime: string }) => void;
  let failed!: (m: string) => void;
  let exited!: (v: { code: number | null; signal: string | null }) => void;
  let orphaned!: () => void;
  const seen = {
    spawned: new Promise<{ pid: number; startTime: string }>((r) => (spawned = r)),
    failed: new Promise<string>((r) => (failed = r)),
    exited: new Promise<{ code: number | null; signal: string | null }>((r) => (exited = r)),
    orphaned: new Promise<void>((r) => (orphaned = r)),
  };
  const handlers: SpawnEvents = {
    spawned: (pid, startTime) => {
      pids.push(pid);
      spawned({ pid, startTime });
    },
    failed,
    exited: (code, signal) => exited({ code, signal }),
    orphaned,
  };
  return { seen, handlers };
}

/** The spawner's loop in this process, wired to a channel by two in-memory pipes. */
function inProcess() {
  const toSpawner = new PassThrough();
  const fromSpawner = new PassThrough();
  const served = serve(toSpawner, fromSpawner);
  const channel = new SpawnerChannel(fromSpawner, toSpawner);
  /** What the spawner dying looks like from the manager: its stdout ends. */
  const die = async () => {
    toSpawner.end();
    await served;
    fromSpawner.end();
    await channel.closed;
  };
  return { channel, die, fromSpawner };
}

describe('the QEMU spawner protocol (spawner loop and channel over in-memory pipes)', () => {
  it('starts a process in a session of its own, output appended to a 0600 log, and reports pid, start time and exit', async () => {
    const { channel, die } = inProcess();
    expect(await channel.ready).toBe(process.pid);
    const log = path.join(tmp(), 'console.log');
    const { seen, handlers } = events();
    channel.spawn({ file: '/bin/sh', args: ['-c', 'echo out; echo err >&2; sleep 0.3; exit 3'], log }, handlers);
    const { pid, startTime } = await seen.spawned;
    const fields = stat(pid)!;
    expect(fields[19]).toBe(startTime);
    expect([fields[2], fields[3]]).toEqual([String(pid), String(pid)]); // its own process group and session
    expect(fields[1]).toBe(String(process.pid)); // the spawner's child
    expect(await seen.exited).toEqual({ code: 3, signal: null });
    expect(stat(pid)).toBeNull(); // reaped: no zombie
    expect(readFileSync(log, 'utf8')).toBe('out\nerr\n');
    expect(statSync(log).mode & 0o777).toBe(0o600);
    await die();
  });

  it('reports what cannot be started: no such program, a console log that cannot be opened', async () => {
    const { channel, die } = inProcess();
    const dir = tmp();
    const missing = events();
    channel.spawn({ file: path.join(dir, 'no-qemu'), args: [], log: path.join(dir, 'a.log') }, missing.handlers);
    expect(await missing.seen.failed).toMatch(/ENOENT/);
    const noLog = events();
    channel.spawn({ file: '/bin/true', args: [], log: path.join(dir, 'missing-dir', 'a.log') }, noLog.handlers);
    expect(await noLog.seen.failed).toMatch(/^cannot open its console log: ENOENT/);
    await die();
  });

  it('signals only an unreaped child: sent once, refused after its exit, for unknown ids and unknown signals', async () => {
    const { channel, die } = inProcess();
    const { seen, handlers } = events();
    const id = channel.spawn({ file: '/bin/sh', args: ['-c', 'exec sleep 30'], log: path.join(tmp(), 'c.log') }, handlers);
    await seen.spawned;
    expect(await channel.kill(id, 'SIGNOPE' as NodeJS.Signals)).toBe(false);
    expect(await channel.kill(id + 100, 'SIGTERM')).toBe(false);
    expect(await channel.kill(id, 'SIGTERM')).toBe(true);
    expect(await seen.exited).toEqual({ code: null, signal: 'SIGTERM' });
    expect(await channel.kill(id, 'SIGTERM')).toBe(false);
    await die();
  });

  it('when the spawner is gone: running processes are orphaned (and run on), kills answer null, new spawns are orphaned at once', async () => {
    const { channel, die, fromSpawner } = inProcess();
    fromSpawner.write('not the protocol\n'); // ignored
    const { seen, handlers } = events();
    const id = channel.spawn({ file: '/bin/sh', args: ['-c', 'exec sleep 30'], log: path.join(tmp(), 'c.log') }, handlers);
    const { pid } = await seen.spawned;
    await die();
    await seen.orphaned;
    expect(alive(pid)).toBe(true);
    expect(channel.isOpen).toBe(false);
    expect(await channel.kill(id, 'SIGTERM')).toBeNull();
    const late = events();
    channel.spawn({ file: '/bin/true', args: [], log: path.join(tmp(), 'd.log') }, late.handlers);
    await late.seen.orphaned;
  });
});

describe('the QEMU spawner process (real helper)', () => {
  it('runs in a session of its own; killed, it is restarted, and what it started runs on with another parent', async () => {
    const client = new SpawnerClient();
    clients.push(client);
    await client.open();
    const first = client.pid!;
    expect(readFileSync(`/proc/${first}/cmdline`, 'utf8')).toMatch(/^cocos-manager-spawner/);
    expect(stat(first)![3]).toBe(String(first)); // setsid: no terminal signal aimed at the manager reaches it
    const { seen, handlers } = events();
    client.spawn({ file: '/bin/sh', args: ['-c', 'exec sleep 30'], log: path.join(tmp(), 'c.log') }, handlers);
    const { pid } = await seen.spawned;
    expect(stat(pid)![1]).toBe(String(first));

    process.kill(first, 'SIGKILL');
    await seen.orphaned;
    await until(() => stat(first) === null, 'the dead spawner to be reaped');
    expect(alive(pid)).toBe(true);
    expect(stat(pid)![1]).not.toBe(String(first));
    await until(() => client.pid !== null && client.pid !== first, 'a new spawner');

    const again = events();
    client.spawn({ file: '/bin/sh', args: ['-c', 'exit 5'], log: path.join(tmp(), 'd.log') }, again.handlers);
    expect(await again.seen.exited).toEqual({ code: 5, signal: null });
    const second = client.pid!;
    await client.close();
    expect(stat(second)).toBeNull();
    expect(alive(pid)).toBe(true); // closing the spawner leaves its children running
  });
});

describe('SpawnedQemu: a QEMU started by the spawner, supervised with or without it', () => {
  /** A stand-in that carries `-name` as QEMU does (what identifies it once it is not the spawner's child). */
  const spec = (name: string, script: string): LaunchSpec => {
    const dir = tmp();
    return { argv: ['/bin/sh', '-c', script, '-name', name], consoleLog: path.join(dir, 'console.log'), qmpSocket: path.join(dir, 'qmp.sock'), name };
  };
  const LOOP = 'trap "exit 0" TERM; while :; do sleep 0.05; done';

  it('reports an exit at once with its code and last output; a program that cannot start fails with QEMU_SPAWN_FAILED', async () => {
    const client = new SpawnerClient();
    clients.push(client);
    const quick = await SpawnedQemu.start(client, spec('cvm-quick', 'echo "no kernel"; exit 1'), new LivenessWatch());
    expect(await quick.exited).toEqual({ code: 1, signal: null, reason: 'QEMU exited with code 1; last output: no kernel' });
    expect(await quick.kill('SIGTERM')).toBe(false);
    const missing = path.join(tmp(), 'qemu-system-x86_64');
    await expect(SpawnedQemu.start(client, { ...spec('cvm-missing', ''), argv: [missing, '-name', 'cvm-missing'] }, new LivenessWatch())).rejects.toMatchObject(
      {
        kind: 'QEMU_SPAWN_FAILED',
        message: `cannot start ${missing}: spawn ${missing} ENOENT`,
      },
    );
  });

  it('after the spawner dies: still signalled (the stop ladder works), and an exit from outside is still seen', async () => {
    const client = new SpawnerClient();
    clients.push(client);
    const liveness = new LivenessWatch({ everyMs: 20 });
    const stopped = await SpawnedQemu.start(client, spec('cvm-stopped', LOOP), liveness);
    const crashed = await SpawnedQemu.start(client, spec('cvm-crashed', LOOP), liveness);
    pids.push(stopped.pid, crashed.pid);
    expect(await stopped.kill('SIGCONT')).toBe(true); // through the spawner
    process.kill(client.pid!, 'SIGKILL');
    expect(await stopped.kill('SIGTERM')).toBe(true); // the spawner gone: sent after checking it is still that process
    expect(await stopped.exited).toEqual({
      code: null,
      signal: null,
      reason: 'QEMU (supervised without its parent, the QEMU spawner, which died) exited; exit status unknown',
    });
    expect(alive(crashed.pid)).toBe(true);
    process.kill(crashed.pid, 'SIGKILL');
    expect((await crashed.exited).reason).toMatch(/^QEMU \(supervised without its parent, the QEMU spawner, which died\) exited/);
    expect(stat(crashed.pid)).toBeNull(); // reaped (by init), not a zombie
    expect(await crashed.kill('SIGKILL')).toBe(false);
  });

  it('after the spawner dies, the end of its QMP connection is what reports the exit (no poll needed)', async () => {
    const client = new SpawnerClient();
    clients.push(client);
    const proc = await SpawnedQemu.start(client, spec('cvm-qmp', LOOP), new LivenessWatch({ everyMs: 3_600_000 })); // a tick that never comes in this test
    pids.push(proc.pid);
    const qmp = Object.assign(new EventEmitter(), { connected: true, execute: () => Promise.resolve(), close: () => undefined });
    proc.watchQmp(qmp as unknown as QmpConnection);
    const spawner = client.pid!;
    process.kill(spawner, 'SIGKILL');
    await until(() => stat(spawner) === null, 'the dead spawner to be reaped');
    expect(await proc.kill('SIGCONT')).toBe(true); // answered by the adopted path: the spawner is gone
    process.kill(proc.pid, 'SIGKILL');
    await until(() => stat(proc.pid) === null, 'the stand-in to be reaped by init');
    qmp.emit('closed');
    expect((await proc.exited).reason).toMatch(/^QEMU \(supervised without its parent, the QEMU spawner, which died\) exited/);
  });
});
