import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConsoleFollower } from '../src/vm/console-follower.js';
import { ConsoleLog } from '../src/vm/console-log.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cocos-follower-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ConsoleFollower across rotations', () => {
  it('hands out every line exactly once, also those written just before a rotation', async () => {
    const file = path.join(dir, 'console.log');
    writeFileSync(file, '');
    const log = new ConsoleLog(file, 10);
    const got: string[] = [];
    const follower = new ConsoleFollower(file, (line) => got.push(line), 60_000);
    await follower.start(true);
    const written: string[] = [];
    const write = (n: number) => {
      const lines = Array.from({ length: n }, (_, i) => `line ${written.length + i + 1}`);
      written.push(...lines);
      appendFileSync(file, lines.map((l) => `${l}\n`).join(''));
    };
    for (let round = 0; round < 20; round++) {
      write(3);
      if (round % 2 === 0) await follower.poll();
      write(4); // after the last poll, before the rotation
      expect(await log.rotateIfNeeded()).toBe(true);
      // A partial line across the rotation boundary.
      appendFileSync(file, `tail ${round}`);
      appendFileSync(file, ` end\n`);
      written.push(`tail ${round} end`);
      await follower.poll();
    }
    follower.stop();
    expect(got).toEqual(written);
  });
});
