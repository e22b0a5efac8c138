import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConsoleFollower } from '../src/vm/console/console-follower.js';
import { CONSOLE_CUT_MARK, cutLongLines, MAX_CONSOLE_LINE } from '../src/vm/console/console-lines.js';
import { ConsoleLog } from '../src/vm/console/console-log.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cocos-follower-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ConsoleFollower across rotations', () => {
  // Its waits are bounds, not timings: the test's own timeout leaves them room on a loaded machine.
  it('rotates the log as it outgrows its limit and hands out every line exactly once, while another process writes', { timeout: 60_000 }, async () => {
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
    // A bound on waiting only (a loaded machine is slow to deliver inotify events), not a timing assertion.
    const deadline = Date.now() + 30_000;
    while (got.length < written.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await follower.poll();
    follower.stop();
    expect(got).toEqual(written);
    // It did rotate: the live file is under its limit again, the copy holds older lines.
    expect(statSync(file).size).toBeLessThanOrEqual(200 + 20);
    expect(readFileSync(log.rotated, 'utf8')).toMatch(/line \d+-a/);
  });
});

describe('ConsoleFollower is event-driven', () => {
  it('hands out lines another process appends, without a timer of its own', { timeout: 60_000 }, async () => {
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
    const deadline = Date.now() + 30_000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    follower.stop();
    expect(got).toEqual(['one', 'two', 'three']);
  });
});

describe('ConsoleFollower bounds what a guest writes', () => {
  it('cuts a line without a newline into marked pieces, holds at most one piece, and goes on with later lines', async () => {
    const file = path.join(dir, 'long.log');
    writeFileSync(file, '');
    const log = new ConsoleLog(file, 64 * 1024 * 1024);
    const got: Array<{ line: string; cut: boolean }> = [];
    const follower = new ConsoleFollower(file, (line, cut) => got.push({ line, cut }), log);
    await follower.start(true);
    // 3 MiB and a bit with no newline (read in several 1 MiB reads), then one whole line.
    const long = 'x'.repeat(3 * 1024 * 1024 + 100);
    const child = spawn('sh', ['-c', `head -c ${long.length} /dev/zero | tr '\\0' x >> "$0"; printf '\\nafter\\n' >> "$0"`, file]);
    await new Promise((resolve) => child.on('exit', resolve));
    const deadline = Date.now() + 10_000;
    while (got.at(-1)?.line !== 'after' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    follower.stop();
    expect(got.at(-1)).toEqual({ line: 'after', cut: false });
    const pieces = got.slice(0, -1);
    // Every piece is bounded; all but the last are marked; together they are the line.
    for (const p of pieces) expect(p.line.length).toBeLessThanOrEqual(MAX_CONSOLE_LINE + CONSOLE_CUT_MARK.length);
    expect(pieces.slice(0, -1).every((p) => p.cut && p.line.endsWith(CONSOLE_CUT_MARK))).toBe(true);
    expect(pieces.at(-1)?.cut).toBe(false);
    expect(pieces.map((p) => (p.cut ? p.line.slice(0, -CONSOLE_CUT_MARK.length) : p.line)).join('')).toBe(long);
    expect((follower as unknown as { partial: string }).partial.length).toBeLessThanOrEqual(MAX_CONSOLE_LINE);
  });

  it('keeps a multi-byte character split across two reads whole', async () => {
    const file = path.join(dir, 'utf8.log');
    // 1 MiB - 1 bytes of ASCII, then "é" (2 bytes) straddling the 1 MiB read boundary.
    writeFileSync(file, Buffer.concat([Buffer.from('a'.repeat(1024 * 1024 - 1)), Buffer.from('é\n')]));
    const got: string[] = [];
    const follower = new ConsoleFollower(file, (line) => got.push(line));
    await follower.start(true);
    await follower.poll();
    follower.stop();
    expect(got.join('').endsWith('aé')).toBe(true);
    expect(got.join('')).not.toContain('\uFFFD');
  });
});

describe('console output served whole', () => {
  it('cuts its long lines into marked pieces and leaves short ones alone', () => {
    expect(cutLongLines('a\nb\n')).toBe('a\nb\n');
    const long = 'y'.repeat(MAX_CONSOLE_LINE * 2 + 5);
    const out = cutLongLines(`before\n${long}\nafter`).split('\n');
    expect(out).toEqual(['before', 'y'.repeat(MAX_CONSOLE_LINE) + CONSOLE_CUT_MARK, 'y'.repeat(MAX_CONSOLE_LINE) + CONSOLE_CUT_MARK, 'yyyyy', 'after']);
  });
});
