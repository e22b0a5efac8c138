import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  emptyCreateVmRequest,
  ErrorCode,
  HostEnvironment,
  ManagerError,
  QemuCommand,
  QemuSection,
  TEE_BACKEND,
  VmContext,
  type ManagerPlugin,
  type TeeBackend,
} from '@cocos-manager/core';
import { BackendRegistry, Manager } from '@cocos-manager/core/internal';

export interface TeeBackendConformanceOptions {
  /** The plugin under test (it must provide a TEE backend). */
  readonly plugin: ManagerPlugin;
  /** The backend's name as it registers it. */
  readonly backendName: string;
  /** Configuration for the manager the backend is resolved from. */
  readonly env?: Readonly<Record<string, string>>;
  /** Plugins loaded alongside, for a backend that reads another plugin's settings (sev boots backend-plain's OVMF drives). */
  readonly companions?: readonly ManagerPlugin[];
}

const SECTIONS = new Set<number>(Object.values(QemuSection));

/**
 * The rules every TeeBackend must keep, as vitest tests. Call it at the top
 * level of a test file:
 *
 *   describeTeeBackendConformance({ plugin: myPlugin, backendName: 'my-tee' });
 */
export function describeTeeBackendConformance(options: TeeBackendConformanceOptions): void {
  const silent = pino({ level: 'silent' });
  const start = (env: Readonly<Record<string, string>> = {}) => {
    const manager = Manager.create({ plugins: [...(options.companions ?? []), options.plugin], env: { ...options.env, ...env }, logger: silent });
    const backend = manager.container.resolveAll<TeeBackend>(TEE_BACKEND).find((b) => b.name === options.backendName);
    if (!backend) throw new Error(`plugin ${options.plugin.name} registers no TEE backend named "${options.backendName}"`);
    return { manager, backend };
  };
  const resolve = (): TeeBackend => start().backend;
  const vm = (parent: string, id: string) => new VmContext(id, path.join(parent, id), 6100, emptyCreateVmRequest(), 'quiet');

  describe(`TeeBackend conformance: ${options.backendName} (${options.plugin.name})`, () => {
    it('resolves from its plugin through DI, with a lower-case name', () => {
      const backend = resolve();
      expect(backend.name).toMatch(/^[a-z][a-z0-9-]*$/);
      for (const method of ['probe', 'validate', 'prepare', 'contribute', 'cleanup', 'attestationPolicy'] as const) {
        expect(typeof backend[method], method).toBe('function');
      }
    });

    it('declares a well-formed auto-detection selection, or none (then only MANAGER_TEE_BACKEND selects it)', async () => {
      const { manager, backend } = start();
      const selection = backend.selection;
      if (selection === undefined) return;
      expect(Number.isFinite(selection.priority), 'priority is a finite number').toBe(true);
      expect(['probe', 'fallback']).toContain(selection.detect);
      expect(backend.selection, 'the declaration is stable').toEqual(selection);
      // Chosen by its declaration alone, with no other backend loaded and no probing.
      const chooseAlone = (env: Readonly<Record<string, string>> = {}) => {
        const started = start({ MANAGER_TEE_BACKEND: '', ...env });
        return new BackendRegistry([started.backend], started.manager.config, new HostEnvironment(os.tmpdir()), silent).choose({ probe: false });
      };
      if (selection.detect === 'fallback') expect((await chooseAlone()).name).toBe(backend.name);
      if (selection.switch === undefined) return;
      const { env, value } = selection.switch;
      // The switch is one of the plugin's own settings, so it is documented with it.
      const declared = manager.config.settings().find((s) => s.env === env);
      expect(declared?.owner, `${env} is declared by ${options.plugin.name}`).toBe(options.plugin.name);
      expect([true, false, null]).toContain(value);
      expect(start({ [env]: 'true' }).backend.selection?.switch?.value, `${env}=true`).toBe(true);
      expect(start({ [env]: 'false' }).backend.selection?.switch?.value, `${env}=false`).toBe(false);
      expect((await chooseAlone({ [env]: 'true' })).name, `${env}=true forces it on`).toBe(backend.name);
    });

    it('probes any host without throwing, always with a reason', async () => {
      const empty = mkdtempSync(path.join(os.tmpdir(), 'conformance-host-'));
      try {
        for (const host of [new HostEnvironment(empty), new HostEnvironment('/')]) {
          const result = await resolve().probe(host);
          expect(typeof result.available).toBe('boolean');
          expect(result.reason.trim()).not.toBe('');
        }
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    });

    it('contributes valid elements: known sections, non-empty argv words, deterministic, isolated per VM', () => {
      const backend = resolve();
      const render = (ctx: VmContext) => {
        const command = new QemuCommand('qemu');
        backend.contribute(command, ctx);
        return command.args();
      };
      const a = vm('/run/conformance', '11111111-1111-4111-8111-111111111111');
      const b = vm('/run/conformance', '22222222-2222-4222-8222-222222222222');
      const args = render(a);
      expect(args.length).toBeGreaterThan(0);
      expect(args.every((w) => typeof w === 'string')).toBe(true);
      expect(args.filter((w) => w.startsWith('-')).every((flag) => flag.length > 1)).toBe(true);
      expect(render(a)).toEqual(args);
      // Whatever is per VM stays per VM: one VM's arguments never name another's id or files.
      expect(args.join(' ')).not.toContain(b.id);
      expect(render(b).join(' ')).not.toContain(a.id);
      const command = new QemuCommand('qemu');
      const added: number[] = [];
      const spy = { add: (...elements: Array<{ section: number }>) => (added.push(...elements.map((e) => e.section)), spy) };
      backend.contribute(Object.assign(command, spy) as unknown as QemuCommand, a);
      expect(added.every((s) => SECTIONS.has(s))).toBe(true);
    });

    it('keeps its per-VM files inside the VM directory and cleans up', async () => {
      const backend = resolve();
      const parent = mkdtempSync(path.join(os.tmpdir(), 'conformance-vm-'));
      const ctx = vm(parent, '33333333-3333-4333-8333-333333333333');
      try {
        (await import('node:fs')).mkdirSync(ctx.dir, { mode: 0o700 });
        try {
          await backend.prepare(ctx);
        } catch (err) {
          // A backend may need host resources to prepare; it must say so as a ManagerError or ConfigError.
          expect(err instanceof ManagerError || err instanceof ConfigError || (err as NodeJS.ErrnoException).code !== undefined).toBe(true);
        }
        expect(readdirSync(parent)).toEqual([path.basename(ctx.dir)]);
        await backend.cleanup(ctx);
        rmSync(ctx.dir, { recursive: true, force: true });
        expect(readdirSync(parent)).toEqual([]);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    });

    it('answers the attestation policy with a document, or refuses with FAILED_PRECONDITION / a configuration error', async () => {
      const backend = resolve();
      const parent = mkdtempSync(path.join(os.tmpdir(), 'conformance-policy-'));
      try {
        const outcome = await backend.attestationPolicy(vm(parent, '44444444-4444-4444-8444-444444444444')).then(
          (doc) => ({ doc }),
          (err: unknown) => ({ err }),
        );
        if ('doc' in outcome) {
          expect(outcome.doc.tee).toBe(backend.name);
          // The CoRIM environment a verifier classifies the measurements by.
          expect(outcome.doc.environment.vendor.trim()).not.toBe('');
          expect(outcome.doc.environment.model.trim()).not.toBe('');
          expect(() => JSON.stringify(outcome.doc.json)).not.toThrow();
          for (const m of outcome.doc.measurements) {
            expect(m.name).not.toBe('');
            expect(m.digest).toBeInstanceOf(Uint8Array);
          }
        } else {
          const err = outcome.err;
          const acceptable = (err instanceof ManagerError && err.code === ErrorCode.FailedPrecondition) || err instanceof ConfigError;
          expect(acceptable, String(err)).toBe(true);
          expect((err as Error).message.trim()).not.toBe('');
        }
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    });

    it('validates its configuration at start with a ConfigError, or accepts it', async () => {
      await resolve()
        .validate()
        .catch((err: unknown) => expect(err).toBeInstanceOf(ConfigError));
    });
  });
}
