import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { BOOT_STRATEGY, emptyCreateVmRequest, resolveAllTokens, resolveToken, VmContext, type BootStrategy, type ManagerPlugin } from '@cocos-manager/core';
import { BOOT_REGISTRY, createVmDir, Manager, vmLayout, writeShares } from '@cocos-manager/core/internal';
import { inertBackendPlugin } from './inert-backend.js';
import { snapshotTree, type FsSnapshot } from './fs-snapshot.js';

export interface BootStrategyConformanceOptions {
  /** The strategy's plugin and any it is used with; none for core's `ram`. No TEE backend is needed (the test kit's inert one is loaded). */
  readonly plugins: readonly ManagerPlugin[];
  /** The strategy's name as it registers it. */
  readonly strategyName: string;
  /** The configuration that selects it (`MANAGER_QEMU_ENABLE_DISK=true`); none for `ram`, which is chosen when nothing else is. */
  readonly selectedBy?: Readonly<Record<string, string>>;
  /** Further configuration, the same in every case. */
  readonly env?: Readonly<Record<string, string>>;
  /** Makes the boot media in `dir` (a kernel and an initramfs, a reference disk…) and returns the configuration naming them. */
  readonly media: (dir: string) => Promise<Record<string, string>>;
  /** Whether `prepare` reads the boot media (disk makes each VM's disk from the reference), so it must fail once they are gone. */
  readonly preparesFromMedia: boolean;
  /**
   * A configuration that puts the per-VM files outside the VM's directory,
   * under `dir`, as an operator may (disk's MANAGER_QEMU_DST_DISK_FILE). The
   * file cases then also run with it: the files stay under `dir`, per VM.
   */
  readonly outside?: (dir: string) => Record<string, string>;
}

/** The VM ids the cases use. */
export const VM_A = 'aaaaaaaa-0000-4000-8000-00000000000a';
export const VM_B = 'bbbbbbbb-0000-4000-8000-00000000000b';

const silent = pino({ level: 'silent' });

/**
 * One case's sandbox: a temporary directory holding the boot media, the run
 * directory with the VMs' directories (made as core makes them), a place for
 * per-VM files configured outside them, and the temporary directory the
 * strategy sees while it works. Everything a strategy may touch is under
 * `root`, so a snapshot of it shows every write.
 */
export class BootWorld {
  readonly media: string;
  readonly runDir: string;
  readonly outsideDir: string;
  readonly tmpDir: string;

  private constructor(
    readonly options: BootStrategyConformanceOptions,
    readonly root: string,
    private readonly mediaEnv: Record<string, string>,
    /** Whether the per-VM files are configured outside the VM directories. */
    readonly outside: boolean,
  ) {
    this.media = path.join(root, 'media');
    this.runDir = path.join(root, 'run');
    this.outsideDir = path.join(root, 'outside');
    this.tmpDir = path.join(root, 'tmp');
  }

  static async create(options: BootStrategyConformanceOptions, outside = false): Promise<BootWorld> {
    const root = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'boot-conformance-')));
    for (const dir of ['media', 'run', 'outside', 'tmp']) mkdirSync(path.join(root, dir), { mode: 0o700 });
    const mediaEnv = await options.media(path.join(root, 'media'));
    return new BootWorld(options, root, mediaEnv, outside);
  }

  /** The configurations a case runs under: the default layout, then (when the strategy has one) per-VM files outside. */
  static layouts(options: BootStrategyConformanceOptions): boolean[] {
    return options.outside ? [false, true] : [false];
  }

  /** The full configuration: sandboxed directories, the media, the switch (unless `selected` is false), the outside layout. */
  env(selected = true): Record<string, string> {
    return {
      MANAGER_RUN_DIR: this.runDir,
      MANAGER_STATE_DIR: path.join(this.root, 'state'),
      MANAGER_QEMU_ENABLE_KVM: 'false',
      ...this.options.env,
      ...(selected ? this.options.selectedBy : {}),
      ...this.mediaEnv,
      ...(this.outside && this.options.outside ? this.options.outside(this.outsideDir) : {}),
    };
  }

  manager(selected = true): Manager {
    return Manager.create({ plugins: [inertBackendPlugin, ...this.options.plugins], env: this.env(selected), logger: silent });
  }

  /** The strategy, resolved from a fresh manager through DI. */
  strategy(manager: Manager = this.manager()): BootStrategy {
    const named = resolveAllTokens(manager.container, BOOT_STRATEGY).filter((s) => s.name === this.options.strategyName);
    if (named.length === 0) throw new Error(`no boot strategy named "${this.options.strategyName}" is registered by ${this.pluginNames()}`);
    return named[0]!;
  }

  /** What core's boot registry chooses under this configuration. */
  chosen(manager: Manager): BootStrategy {
    return resolveToken(manager.container, BOOT_REGISTRY).choose();
  }

  /** A VM's directory as core has it when `prepare` runs (0700, with its env and certs shares), and its context. */
  async vm(id: string): Promise<VmContext> {
    const layout = vmLayout(this.runDir, id);
    await createVmDir(layout.dir);
    await writeShares(layout, id, emptyCreateVmRequest());
    return this.context(id);
  }

  /** A VM's context without its directory (a teardown after the directory is gone). */
  context(id: string): VmContext {
    return new VmContext(id, vmLayout(this.runDir, id).dir, 6100, emptyCreateVmRequest(), 'quiet console=null');
  }

  snapshot(): FsSnapshot {
    return snapshotTree(this.root);
  }

  /** The boot media's files (absolute). */
  mediaFiles(): string[] {
    return readdirSync(this.media, { recursive: true, encoding: 'utf8' }).map((f) => path.join(this.media, f));
  }

  removeMedia(): void {
    for (const name of readdirSync(this.media)) rmSync(path.join(this.media, name), { recursive: true, force: true });
  }

  /** Runs `work` with the temporary directory pointed into the sandbox, so a strategy writing to os.tmpdir() is seen. */
  async sandboxed<T>(work: () => Promise<T> | T): Promise<T> {
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = this.tmpDir;
    try {
      return await work();
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  private pluginNames(): string {
    return this.options.plugins.length === 0 ? 'core' : this.options.plugins.map((p) => p.name).join(', ');
  }
}

/** Runs `body` in a fresh sandbox, removed afterwards whatever happens. */
export async function inWorld(options: BootStrategyConformanceOptions, outside: boolean, body: (world: BootWorld) => Promise<void>): Promise<void> {
  const world = await BootWorld.create(options, outside);
  try {
    await body(world);
  } finally {
    world.dispose();
  }
}
