import path from 'node:path';
import { expect } from 'vitest';
import { ConfigError, QemuCommand, QemuSection, type QemuElement, type VmContext } from '@cocos-manager/core';
import { PLACEHOLDER_VM_ID } from '@cocos-manager/core/internal';
import { BOOT_STRATEGY, resolveAllTokens } from '@cocos-manager/core';
import { mustResolve, type ConformanceCase } from './conformance-case.js';
import { inWorld, VM_A, VM_B, type BootStrategyConformanceOptions, type BootWorld } from './boot-conformance-world.js';

/** The sections a boot strategy's elements may go in: how the guest gets its OS (firmware, disks, -kernel/-initrd/-append). */
export const BOOT_SECTIONS: ReadonlySet<QemuSection> = new Set([QemuSection.Firmware, QemuSection.Storage, QemuSection.Boot]);

/**
 * Options of which QEMU keeps only the last: a second one silently replaces
 * the first (another element's kernel, firmware, CPU). `-machine`, `-m` and
 * `-smp` may repeat: QEMU merges their properties (backends add
 * confidential-guest-support that way).
 */
const SINGLE_OPTIONS = ['-kernel', '-initrd', '-append', '-bios', '-cpu'];

/** The elements a contribution adds, and its argv. */
export function contribution(world: BootWorld, ctx: VmContext): { elements: QemuElement[]; args: string[] } {
  const strategy = world.strategy();
  const command = new QemuCommand('qemu');
  const elements: QemuElement[] = [];
  const add = command.add.bind(command);
  command.add = (...added: QemuElement[]) => (elements.push(...added), add(...added));
  strategy.contribute(command, ctx);
  return { elements, args: command.args() };
}

/** The absolute host paths an argv names: whole words and option values (`file=/…`); the kernel command line (`-append`) is the guest's, not the host's. */
export function pathsIn(args: readonly string[]): string[] {
  const words = args.filter((_, i) => args[i - 1] !== '-append');
  const values = words.flatMap((word) => (path.isAbsolute(word) ? [word] : word.split(/(?<!,),(?!,)/).map((p) => p.slice(p.indexOf('=') + 1))));
  return values.filter((v) => path.isAbsolute(v)).map((v) => v.replaceAll(',,', ','));
}

const resolves = (o: BootStrategyConformanceOptions): ConformanceCase => ({
  id: 'resolves',
  title: 'resolves through DI from its plugins, once, under a stable lower-case name',
  run: () =>
    inWorld(o, false, async (world) => {
      const manager = world.manager();
      const strategy = world.strategy(manager);
      expect(strategy.name, 'a lower-case name').toMatch(/^[a-z][a-z0-9-]*$/);
      // A VM's record names its strategy; a restarted manager finds it by that name.
      expect(world.strategy().name, 'the same name from another manager').toBe(strategy.name);
      expect(strategy.name, 'the name does not change').toBe(strategy.name);
      for (const method of ['selected', 'validate', 'prepare', 'contribute', 'cleanup'] as const) {
        expect(typeof strategy[method], method).toBe('function');
      }
      const same = resolveAllTokens(manager.container, BOOT_STRATEGY).filter((s) => s.name === strategy.name);
      expect(same, `one strategy named "${strategy.name}"`).toHaveLength(1);
    }),
});

const selection = (o: BootStrategyConformanceOptions): ConformanceCase => ({
  id: 'selection',
  title: o.selectedBy ? 'is chosen by its switch and only by it' : 'is never selected, and chosen when nothing else is (the fallback)',
  run: () =>
    inWorld(o, false, async (world) => {
      const on = world.manager(true);
      const strategy = world.strategy(on);
      const answer = strategy.selected();
      expect(strategy.selected(), 'selected() gives the same answer each time').toBe(answer);
      if (!o.selectedBy) {
        expect(answer, 'a strategy without a switch is never selected').toBe(false);
        expect(world.chosen(on).name, 'the registry falls back to it').toBe(strategy.name);
        return;
      }
      expect(answer, `selected with ${JSON.stringify(o.selectedBy)}`).toBe(true);
      expect(world.chosen(on).name, 'the registry chooses it').toBe(strategy.name);
      // Loading a plugin does not change how VMs boot: without its switch, the fallback still boots them.
      const off = world.manager(false);
      expect(world.strategy(off).selected(), 'selected without its switch').toBe(false);
      expect(world.chosen(off).name, 'chosen without its switch').not.toBe(strategy.name);
    }),
});

const validate = (o: BootStrategyConformanceOptions): ConformanceCase => ({
  id: 'validate',
  title: 'validate accepts its boot media and refuses them once gone, with a ConfigError naming the file',
  run: () =>
    inWorld(o, false, async (world) => {
      await mustResolve(world.strategy().validate(), 'validate with the media there');
      const files = world.mediaFiles();
      expect(files.length, 'the media function made files').toBeGreaterThan(0);
      world.removeMedia();
      const err = await world
        .strategy()
        .validate()
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(err, 'validate refuses missing boot media').toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(
        files.some((f) => message.includes(f)),
        `the message names a missing file: ${message}`,
      ).toBe(true);
    }),
});

const contributes = (o: BootStrategyConformanceOptions): ConformanceCase => ({
  id: 'contribution',
  title: 'contributes boot elements only (firmware, storage, boot sections): valid argv words, deterministic, per VM',
  run: () =>
    inWorld(o, false, async (world) => {
      const a = world.context(VM_A);
      const b = world.context(VM_B);
      const { elements, args } = contribution(world, a);
      expect(elements.length, 'a strategy gives the guest its OS: it adds at least one element').toBeGreaterThan(0);
      for (const e of elements) expect(BOOT_SECTIONS.has(e.section), `${e.constructor.name} in section ${e.section}`).toBe(true);
      for (const word of args) {
        expect(typeof word).toBe('string');
        expect(word, 'no NUL in an argv word').not.toContain('\0');
      }
      for (const flag of args.filter((w) => /^-[a-z]/.test(w))) expect(flag.length).toBeGreaterThan(1);
      expect(contribution(world, a).args, 'the same VM gets the same arguments').toEqual(args);
      expect(args.join(' '), "one VM's arguments never name another VM").not.toContain(b.id);
      expect(contribution(world, b).args.join(' ')).not.toContain(a.id);
    }),
});

const command = (o: BootStrategyConformanceOptions): ConformanceCase => ({
  id: 'command',
  title: "fits the manager's whole command: it is in it, and no option QEMU keeps once and no element id appears twice",
  run: () =>
    inWorld(o, false, async (world) => {
      const manager = world.manager();
      const argv = await manager.previewQemuArgv();
      // The preview plans a placeholder VM in the run directory: the strategy's own arguments are in it.
      const own = contribution(world, world.context(PLACEHOLDER_VM_ID)).args;
      expect(
        own.filter((w) => !argv.includes(w)),
        'its arguments are in the whole command',
      ).toEqual([]);
      for (const flag of SINGLE_OPTIONS) expect(argv.filter((w) => w === flag).length, `${flag} at most once`).toBeLessThanOrEqual(1);
      const ids = argv.flatMap((w) => [...w.matchAll(/(?:^|,)id=([^,]+)/g)].map((m) => m[1]!));
      expect(
        ids.filter((id, i) => ids.indexOf(id) !== i),
        'element ids used twice',
      ).toEqual([]);
    }),
});

/** The cases on configuration and the QEMU command. */
export function commandCases(o: BootStrategyConformanceOptions): ConformanceCase[] {
  return [resolves(o), selection(o), validate(o), contributes(o), command(o)];
}
