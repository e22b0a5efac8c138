import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest } from '@cocos-manager/core';
import { type Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '../src/fake-launcher.js';
import { capturingLogger, startFakeManager, testDirs, type TestDirs } from './fake-manager.js';

let dirs: TestDirs;
const managers: Manager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0).reverse()) await m.stop({ removeVms: true }).catch(() => undefined);
  dirs?.remove();
});

/** A well-formed record, as a manager writes it; tests spoil one field at a time. */
function record(id: string, overrides: Record<string, unknown> = {}) {
  return {
    version: 1,
    id,
    state: 'running',
    pid: 4242,
    pidStartTime: '123',
    hostPort: 7101,
    backend: 'inert',
    boot: 'ram',
    createdAt: new Date().toISOString(),
    ttlDeadline: null,
    kernelCommandLine: 'quiet',
    exit: null,
    ...overrides,
  };
}

describe('state files are input (fake launcher)', () => {
  it('forged records are quarantined and never acted on; nothing outside is touched; the good VM is re-adopted', async () => {
    dirs = testDirs();
    const launcher = new FakeLauncher();
    const first = await startFakeManager(dirs, { launcher });
    const good = await first.service.create(emptyCreateVmRequest());
    await first.stop({ removeVms: false });

    // Sentinels outside the manager's directories, where forged records point.
    const outside = path.join(dirs.dir, 'outside');
    mkdirSync(path.join(outside, 'etc'), { recursive: true });
    writeFileSync(path.join(outside, 'etc', 'passwd'), 'root:x:0:0');
    writeFileSync(path.join(outside, 'secret'), 'keep me');
    const forged: Record<string, string> = {
      // id escaping the run directory, in both spellings
      [randomUUID()]: JSON.stringify(record('../../etc')),
      [randomUUID()]: JSON.stringify(record('../outside/etc', { state: 'failed', pid: null, pidStartTime: null })),
      // NaN (not JSON at all) and a string that is no date
      [randomUUID()]: JSON.stringify(record(randomUUID()))
        .replace('"ttlDeadline": null', '"ttlDeadline": NaN')
        .replace('"ttlDeadline":null', '"ttlDeadline":NaN'),
      [randomUUID()]: 'NaN',
      // wrong types and ranges
      [randomUUID()]: '',
      [randomUUID()]: JSON.stringify([1, 2, 3]),
    };
    const withId = (id: string, o: Record<string, unknown>) => ({ [id]: JSON.stringify(record(id, o)) });
    Object.assign(
      forged,
      withId(randomUUID(), { createdAt: '2024-13-45T99:00:00Z' }),
      withId(randomUUID(), { ttlDeadline: 'Invalid Date' }),
      withId(randomUUID(), { hostPort: '7101' }),
      withId(randomUUID(), { hostPort: 70000 }),
      withId(randomUUID(), { pid: -1 }),
      withId(randomUUID(), { pid: 1.5 }),
      withId(randomUUID(), { pid: '1' }),
      withId(randomUUID(), { state: 'exploded' }),
      withId(randomUUID(), { kernelCommandLine: 42 }),
      withId(randomUUID(), { exit: { code: 'x', signal: null, reason: 'r' } }),
      withId(randomUUID(), { exit: 'crashed' }),
      withId(randomUUID(), { backend: '../../plugin' }),
      withId(randomUUID(), { pid: 1, pidStartTime: null }),
      withId(randomUUID(), { version: 2 }),
    );
    // a file named like a uuid whose id is another (valid) uuid
    const other = randomUUID();
    forged[randomUUID()] = JSON.stringify(record(other, { state: 'failed', pid: null, pidStartTime: null }));
    for (const [name, content] of Object.entries(forged)) writeFileSync(path.join(dirs.state, `${name}.json`), content);
    // a state file that is a symbolic link to a file outside
    const linked = randomUUID();
    symlinkSync(path.join(outside, 'secret'), path.join(dirs.state, `${linked}.json`));

    const { logger, lines } = capturingLogger();
    const second = await startFakeManager(dirs, { launcher, logger });
    managers.push(second);

    // The good record is re-adopted; no forged one became a VM.
    expect(second.service.list()).toMatchObject([{ id: good.id, state: 'running', adopted: true }]);
    // Every forged file moved into quarantine/, one log line each, naming the file and the problem.
    const quarantine = readdirSync(path.join(dirs.state, 'quarantine'));
    expect(quarantine).toHaveLength(Object.keys(forged).length + 1);
    for (const name of [...Object.keys(forged), linked]) expect(quarantine.some((q) => q.startsWith(`${name}.json.`))).toBe(true);
    const logged = lines.filter((l) => l['msg'] === 'invalid VM state file moved to quarantine; not acted on');
    expect(logged).toHaveLength(Object.keys(forged).length + 1);
    expect(logged.map((l) => l['problem'])).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^id must be a lower-case UUID \(got "\.\.\/\.\.\/etc"\)$/),
        expect.stringMatching(/^not JSON/),
        expect.stringMatching(/^createdAt must be an ISO 8601 UTC date/),
        expect.stringMatching(/^hostPort must be an integer from 1 to 65535 \(got "7101"\)$/),
        expect.stringMatching(/^pid must be an integer from 1 to/),
        expect.stringMatching(/^state must be one of/),
        expect.stringMatching(new RegExp(`^id "${other}" differs from the file name's`)),
        'is a symbolic link',
      ]),
    );
    // The state directory holds the good record (and the lock) only.
    expect((await dirs.leftovers()).state.filter((n) => n.endsWith('.json'))).toEqual([`${good.id}.json`]);
    // Nothing outside was touched: sentinels intact, the link moved (not its target).
    expect(readFileSync(path.join(outside, 'etc', 'passwd'), 'utf8')).toBe('root:x:0:0');
    expect(readFileSync(path.join(outside, 'secret'), 'utf8')).toBe('keep me');
    const movedLink = quarantine.find((q) => q.startsWith(`${linked}.json.`)) as string;
    expect(readlinkSync(path.join(dirs.state, 'quarantine', movedLink))).toBe(path.join(outside, 'secret'));
    expect(readdirSync(dirs.dir).sort()).toEqual(['bzImage', 'outside', 'rootfs.cpio.gz', 'run', 'state']);
    // No process was signalled on a forged record's word.
    expect(launcher.processes.flatMap((p) => p.signals)).toEqual([]);
    // The reconciler sweeps nothing of the good VM's, and the quarantine stays for the operator.
    await second.service.reconcile();
    expect(second.service.list()).toHaveLength(1);
    expect(readdirSync(path.join(dirs.state, 'quarantine'))).toHaveLength(quarantine.length);
  });
});

describe('private directories (fake launcher)', () => {
  it('creates missing run and state directories 0700', async () => {
    dirs = testDirs();
    managers.push(await startFakeManager(dirs, { launcher: new FakeLauncher() }));
    expect(statSync(dirs.run).mode & 0o777).toBe(0o700);
    expect(statSync(dirs.state).mode & 0o777).toBe(0o700);
  });

  it.each([
    [
      'state directory as a symbolic link',
      'MANAGER_STATE_DIR',
      (d: TestDirs) => {
        mkdirSync(path.join(d.dir, 'elsewhere'), { mode: 0o700 });
        symlinkSync(path.join(d.dir, 'elsewhere'), d.state);
      },
      /^MANAGER_STATE_DIR \/.*\/state is a symbolic link; expected a real directory$/,
    ],
    [
      'run directory open to others',
      'MANAGER_RUN_DIR',
      (d: TestDirs) => mkdirSync(d.run, { mode: 0o755 }),
      /^MANAGER_RUN_DIR \/.*\/run has mode 0755, open to group or others; expected 0700 \(chmod 700 it\)$/,
    ],
    [
      'state directory open to the group',
      'MANAGER_STATE_DIR',
      (d: TestDirs) => {
        mkdirSync(d.state, { mode: 0o700 });
        chmodSync(d.state, 0o770); // mkdir's mode is filtered by the umask; chmod's is not
      },
      /^MANAGER_STATE_DIR \/.*\/state has mode 0770, open to group or others/,
    ],
    ['run directory that is a file', 'MANAGER_RUN_DIR', (d: TestDirs) => writeFileSync(d.run, ''), /^MANAGER_RUN_DIR \/.*\/run is not a directory$/],
  ])('refuses a %s at start with one line', async (_what, _env, plant, message) => {
    dirs = testDirs();
    plant(dirs);
    await expect(startFakeManager(dirs, { launcher: new FakeLauncher() })).rejects.toThrow(message);
  });

  it('refuses a directory owned by another user', async () => {
    dirs = testDirs();
    mkdirSync(dirs.state, { mode: 0o700 });
    if (process.getuid?.() === 0) {
      chownSync(dirs.state, 65534, 65534);
      await expect(startFakeManager(dirs, { launcher: new FakeLauncher() })).rejects.toThrow(
        /^MANAGER_STATE_DIR \/.*\/state is owned by uid 65534, not by this manager's uid 0$/,
      );
    } else {
      // Not root: a directory of root's stands in for another owner's.
      await expect(startFakeManager(dirs, { launcher: new FakeLauncher(), env: { MANAGER_STATE_DIR: '/root' } })).rejects.toThrow(
        /^MANAGER_STATE_DIR \/root is owned by uid 0, not by this manager's uid \d+$/,
      );
    }
  });

  it('a symbolic link planted at a state file or a VM directory never redirects a write outside', async () => {
    dirs = testDirs();
    const outside = path.join(dirs.dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'target'), 'untouched');
    const launcher = new FakeLauncher();
    const planted: string[] = [];
    const manager = await startFakeManager(dirs, {
      launcher,
      faults: {
        after(step, id) {
          if (step !== 'reserve-port') return;
          // Before the create writes anything: a link at its state file; for the second VM also at its directory.
          symlinkSync(path.join(outside, 'target'), path.join(dirs.state, `${id}.json`));
          if (planted.push(id) === 2) symlinkSync(outside, path.join(dirs.run, id));
        },
      },
    });
    managers.push(manager);
    const vm = await manager.service.create(emptyCreateVmRequest());
    // The record replaced the link; the link's target kept its content.
    expect(JSON.parse(readFileSync(path.join(dirs.state, `${vm.id}.json`), 'utf8'))).toMatchObject({ id: vm.id });
    // The VM directory exists already (a link): the create fails rather than write through it.
    await expect(manager.service.create(emptyCreateVmRequest())).rejects.toThrow(/creating the VM failed: EEXIST/);
    expect(readFileSync(path.join(outside, 'target'), 'utf8')).toBe('untouched');
    expect(readdirSync(outside)).toEqual(['target']);
    // The reconciler sweeps the links themselves, never what they point to.
    await manager.service.reconcile();
    expect(existsSync(path.join(dirs.run, planted[1] as string))).toBe(false);
    expect(existsSync(path.join(dirs.state, `${planted[1] as string}.json`))).toBe(false);
    expect(readFileSync(path.join(outside, 'target'), 'utf8')).toBe('untouched');
  });

  it('console rotation does not write through a link planted at the rotated name', async () => {
    dirs = testDirs();
    const outside = path.join(dirs.dir, 'outside.log');
    writeFileSync(outside, 'untouched');
    const launcher = new FakeLauncher();
    const manager = await startFakeManager(dirs, { launcher, env: { MANAGER_CONSOLE_LOG_SIZE: '1K' } });
    managers.push(manager);
    const vm = await manager.service.create(emptyCreateVmRequest());
    const rotated = path.join(dirs.run, vm.id, 'console.log.1');
    symlinkSync(outside, rotated);
    await launcher.processes[0]?.writeConsole(Array.from({ length: 64 }, (_, i) => `line ${i} ${'x'.repeat(40)}`));
    await expect.poll(() => readFileSync(rotated, 'utf8').includes('line 63'), { timeout: 5000 }).toBe(true);
    expect(readFileSync(outside, 'utf8')).toBe('untouched');
  });
});

describe('one manager per state directory (fake launcher)', () => {
  it("a second manager on the same directories is refused, naming the holder's pid", async () => {
    dirs = testDirs();
    managers.push(await startFakeManager(dirs, { launcher: new FakeLauncher() }));
    await expect(startFakeManager(dirs, { launcher: new FakeLauncher() })).rejects.toThrow(
      new RegExp(
        `^another manager \\(pid ${process.pid}\\) already uses the state directory ${dirs.state}; stop it first or give this one its own MANAGER_STATE_DIR$`,
      ),
    );
  });

  it.each([
    ['whose pid is gone', () => '4194303 1\n'],
    ['whose pid was reused by another process', () => `1 999999999999\n`],
    ['with content it never writes', () => 'garbage'],
  ])('takes over a stale lock %s, and releases it on stop', async (_what, content) => {
    dirs = testDirs();
    mkdirSync(dirs.state, { mode: 0o700 });
    writeFileSync(path.join(dirs.state, 'manager.lock'), content());
    const manager = await startFakeManager(dirs, { launcher: new FakeLauncher() });
    expect(readFileSync(path.join(dirs.state, 'manager.lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    await manager.stop();
    expect(existsSync(path.join(dirs.state, 'manager.lock'))).toBe(false);
  });
});
