import { lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { clientErrorOf, ERROR_CATALOGUE, ManagerError, type BootStrategy, type VmContext } from '@cocos-manager/core';
import { mustResolve, type ConformanceCase } from './conformance-case.js';
import { contribution, pathsIn } from './boot-conformance-command.js';
import { BootWorld, inWorld, VM_A, VM_B, type BootStrategyConformanceOptions } from './boot-conformance-world.js';
import { diffSnapshots, isInside, snapshotTree, type FsSnapshot } from './fs-snapshot.js';

const NO_CHANGE = { added: [], removed: [], changed: [] };
const layoutName = (world: BootWorld) => (world.outside ? 'per-VM files configured outside' : 'default layout');

/** Runs `body` once per layout the strategy has: the default, then per-VM files configured outside the VM directory. */
function eachLayout(o: BootStrategyConformanceOptions, body: (world: BootWorld, strategy: BootStrategy) => Promise<void>): () => Promise<void> {
  return async () => {
    for (const outside of BootWorld.layouts(o)) {
      await inWorld(o, outside, async (world) => {
        const strategy = world.strategy();
        await strategy.validate(); // as the manager's start does, before any VM
        await body(world, strategy);
      });
    }
  };
}

/** Where a VM's own files may be: its directory, or (configured outside) a name carrying its id under the outside directory. */
function mayHold(world: BootWorld, vm: VmContext, file: string): boolean {
  if (isInside(vm.dir, file)) return true;
  return world.outside && isInside(world.outsideDir, file) && path.relative(world.outsideDir, file).includes(vm.id);
}

/** The entries `prepare` added, outermost only (a new directory, not also its files). */
function added(world: BootWorld, before: FsSnapshot, after: FsSnapshot): string[] {
  const all = diffSnapshots(before, after).added;
  return all.filter((rel) => !all.some((other) => other !== rel && isInside(other, rel))).map((rel) => path.join(world.root, rel));
}

const writesInside = (o: BootStrategyConformanceOptions): ConformanceCase => ({
  id: 'writes-inside',
  title: "prepare writes only the VM's own files, 0600, and its arguments name only them and the boot media",
  run: eachLayout(o, async (world, strategy) => {
    const a = await world.vm(VM_A);
    await world.vm(VM_B);
    const before = world.snapshot();
    await world.sandboxed(() => strategy.prepare(a));
    const args = contribution(world, a).args;
    const d = diffSnapshots(before, world.snapshot());
    const where = layoutName(world);
    expect(d.removed, `${where}: removes nothing`).toEqual([]);
    expect(d.changed, `${where}: changes nothing there before it (boot media, shares, another VM)`).toEqual([]);
    const made = d.added.map((rel) => path.join(world.root, rel));
    expect(
      made.filter((f) => !mayHold(world, a, f)),
      `${where}: writes outside the VM's own files`,
    ).toEqual([]);
    for (const file of made) {
      const st = lstatSync(file);
      if (st.isSymbolicLink()) {
        const target = path.resolve(path.dirname(file), readlinkSync(file));
        expect(mayHold(world, a, target), `${where}: ${file} links to ${target}`).toBe(true);
      } else if (st.isFile()) expect((st.mode & 0o077).toString(8), `${where}: ${file} is the guest's: no group or other access`).toBe('0');
    }
    const media = world.mediaFiles();
    expect(
      pathsIn(args).filter((p) => !mayHold(world, a, p) && !media.includes(p)),
      `${where}: arguments name host files that are neither the VM's nor the boot media`,
    ).toEqual([]);
  }),
});

const noFollow = (o: BootStrategyConformanceOptions): ConformanceCase => ({
  id: 'no-follow',
  title: 'prepare does not write through a link planted where its files go',
  run: eachLayout(o, async (world, strategy) => {
    const a = await world.vm(VM_A);
    const before = world.snapshot();
    await world.sandboxed(() => strategy.prepare(a));
    const prepared = world.snapshot();
    const made = added(world, before, prepared);
    await strategy.cleanup(a);
    if (made.length === 0) return; // it writes nothing: there is nothing to follow
    const victim = path.join(world.root, 'victim');
    const victimDir = path.join(world.root, 'victim-dir');
    writeFileSync(victim, 'not the guest’s', { mode: 0o644 });
    mkdirSync(victimDir, { mode: 0o755 });
    const victims = () => ({ file: readFileSync(victim, 'utf8'), mode: statSync(victim).mode, dir: snapshotTree(victimDir) });
    const untouched = victims();
    for (const file of made) {
      const isDir = prepared.get(path.relative(world.root, file))?.startsWith('dir') ?? false;
      rmSync(file, { recursive: true, force: true });
      mkdirSync(path.dirname(file), { recursive: true });
      symlinkSync(isDir ? victimDir : victim, file);
    }
    const failed = await world
      .sandboxed(() => strategy.prepare(a))
      .then(
        () => null,
        (err: unknown) => err,
      );
    const where = layoutName(world);
    expect(victims(), `${where}: the link's target is left as it was`).toEqual(untouched);
    if (failed !== null) expect(failed, `${where}: a refusal is a ManagerError`).toBeInstanceOf(ManagerError);
    else for (const file of made) expect(lstatSync(file).isSymbolicLink(), `${where}: ${file} is still the planted link, and used`).toBe(false);
    await strategy.cleanup(a);
    expect(victims(), `${where}: cleanup leaves the target too`).toEqual(untouched);
  }),
});

const cleanup = (o: BootStrategyConformanceOptions): ConformanceCase => ({
  id: 'cleanup',
  title: 'cleanup removes what prepare made and nothing else, is idempotent, and copes with a missing prepare or VM directory',
  run: eachLayout(o, async (world, strategy) => {
    const where = layoutName(world);
    const [a, b, never] = [await world.vm(VM_A), await world.vm(VM_B), await world.vm('cccccccc-0000-4000-8000-00000000000c')];
    const before = world.snapshot();
    await world.sandboxed(() => strategy.prepare(a));
    const withA = world.snapshot();
    await world.sandboxed(() => strategy.prepare(b));
    const withBoth = world.snapshot();
    const madeForA = diffSnapshots(before, withA).added.sort();
    await world.sandboxed(() => strategy.cleanup(a));
    const d = diffSnapshots(withBoth, world.snapshot());
    expect(d.removed.sort(), `${where}: cleanup(a) removes exactly a's files`).toEqual(madeForA);
    expect({ added: d.added, changed: d.changed }, `${where}: and touches nothing else (b's files, the shares, the media)`).toEqual({ added: [], changed: [] });
    const afterA = world.snapshot();
    await mustResolve(
      world.sandboxed(() => strategy.cleanup(a)),
      `${where}: a second cleanup`,
    );
    expect(diffSnapshots(afterA, world.snapshot()), `${where}: a second cleanup changes nothing`).toEqual(NO_CHANGE);
    await world.sandboxed(() => strategy.cleanup(b));
    expect(diffSnapshots(before, world.snapshot()), `${where}: once both are cleaned up, nothing of theirs is left`).toEqual(NO_CHANGE);
    await mustResolve(
      world.sandboxed(() => strategy.cleanup(never)),
      `${where}: cleanup without prepare`,
    );
    await mustResolve(
      world.sandboxed(() => strategy.cleanup(world.context('dddddddd-0000-4000-8000-00000000000d'))),
      `${where}: cleanup without a VM directory`,
    );
    expect(diffSnapshots(before, world.snapshot()), `${where}: which change nothing`).toEqual(NO_CHANGE);
  }),
});

const failure = (o: BootStrategyConformanceOptions): ConformanceCase => ({
  id: 'failure',
  title: o.preparesFromMedia
    ? 'prepare without its boot media fails with a catalogue ManagerError that shows no host path, and cleanup leaves nothing'
    : 'prepare needs no boot media (it only names them), and cleanup leaves nothing',
  run: eachLayout(o, async (world, strategy) => {
    const where = layoutName(world);
    const a = await world.vm(VM_A);
    world.removeMedia(); // gone after the manager started
    const before = world.snapshot();
    const failed = await world
      .sandboxed(() => strategy.prepare(a))
      .then(
        () => null,
        (err: unknown) => err,
      );
    if (!o.preparesFromMedia) expect(failed, `${where}: prepare resolves`).toBeNull();
    else {
      expect(failed, `${where}: prepare fails with a ManagerError (core would otherwise show its message to the client)`).toBeInstanceOf(ManagerError);
      const err = failed as ManagerError;
      expect(Object.hasOwn(ERROR_CATALOGUE, err.kind), `${where}: kind "${err.kind}" is in the catalogue`).toBe(true);
      expect(err.code, `${where}: its code is its entry's`).toBe(ERROR_CATALOGUE[err.kind].code);
      const shown = clientErrorOf(err).message;
      expect(shown.trim(), `${where}: the client is told something`).not.toBe('');
      expect(shown, `${where}: the client's message shows no host path (those go in detail)`).not.toContain(world.root);
    }
    await world.sandboxed(() => strategy.cleanup(a));
    expect(diffSnapshots(before, world.snapshot()), `${where}: cleanup after it leaves nothing`).toEqual(NO_CHANGE);
  }),
});

/** The cases on the files a strategy makes and removes. */
export function fileCases(o: BootStrategyConformanceOptions): ConformanceCase[] {
  return [writesInside(o), noFollow(o), cleanup(o), failure(o)];
}
