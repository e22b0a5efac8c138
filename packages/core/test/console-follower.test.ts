import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConsoleFollower } from '../src/vm/console-follower.js';
import { ConsoleLog } from '../src/vm/console-log.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cocos-follower-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ConsoleFollower across rotations', () => {
  it('rotates the log as it outgrows its limit and hands out every line exactly once, while another process writes', async () => {
    const file = path.join(dir, 'console.log');
    writeFileSync(file, '');
    const log = new ConsoleLog(file, 200);
    const got: string[] = [];
    const follower = new ConsoleFollower(file, (line) => got.push(line), log);
    await follower.start(true);
    // QEMU's way of writing: an O_APPEND descriptor held by another process, in bursts.
    const script = 'for i in $(seq 1 60); do printf "line $i-a\\nline $i-b\\n"; sleep 0.01; done >> "$0"';
    const child = spawn('sh', ['-c', script, file]);
    await new Promise((resolve) => child.on('exit', resolve));
    const written = Array.from({ length: 60 }, (_, i) => [`line ${i + 1}-a`, `line ${i + 1}-b`]).flat();
    const deadline = Date.now() + 5000;
    while (got.length < written.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await follower.poll();
    follower.stop();
    expect(got).toEqual(written);
    // It did rotate: the live file is under its limit again, the copy holds older lines.
    expect(statSync(file).size).toBeLessThanOrEqual(200 + 20);
    expect(readFileSync(log.rotated(1), 'utf8')).toMatch(/line \d+-a/);
  });
});

describe('ConsoleFollower is event-driven', () => {
  it('hands out lines another process appends, without a timer of its own', async () => {
    const file = path.join(dir, 'watched.log');
    writeFileSync(file, 'before start\n');
    const got: string[] = [];
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const follower = new ConsoleFollower(file, (line) => got.push(line));
    await follower.start();
    expect(timers()).toBe(before);
    // A separate writer, as QEMU is: the follower learns of it from the file system only.
    const child = spawn('sh', ['-c', `printf 'one\\ntwo\\n' >> "$0"; sleep 0.2; printf 'three\\n' >> "$0"`, file]);
    await new Promise((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 5000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    follower.stop();
    expect(got).toEqual(['one', 'two', 'three']);
  });
});
