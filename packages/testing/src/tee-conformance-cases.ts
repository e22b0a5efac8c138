import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { pino } from 'pino';
import { ConfigError, ErrorCode, HostEnvironment, ManagerError, QemuCommand, QemuSection, type QemuElement } from '@cocos-manager/core';
import { BackendRegistry } from '@cocos-manager/core/internal';
import { mustResolve, type ConformanceCase } from './conformance-case.js';
import { diffSnapshots, isInside, snapshotTree } from './fs-snapshot.js';
import { inTempDir, startBackend, vmContext, type TeeBackendConformanceOptions } from './tee-conformance-env.js';

const SECTIONS = new Set<number>(Object.values(QemuSection));
const silent = pino({ level: 'silent' });
const outcome = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (err: unknown) => ({ ok: false as const, err }),
  );

const resolves = (o: TeeBackendConformanceOptions): ConformanceCase => ({
  id: 'resolves',
  title: 'resolves from its plugin through DI, with a lower-case name',
  run: async () => {
    const { backend } = startBackend(o);
    expect(backend.name, 'a lower-case name').toMatch(/^[a-z][a-z0-9-]*$/);
    expect(startBackend(o).backend.name, 'the same name from another manager').toBe(backend.name);
    for (const method of ['probe', 'validate', 'prepare', 'contribute', 'cleanup', 'attestationPolicy'] as const) {
      expect(typeof backend[method], method).toBe('function');
    }
  },
});

const selection = (o: TeeBackendConformanceOptions): ConformanceCase => ({
  id: 'selection',
  title: 'declares a well-formed auto-detection selection, or none (then only MANAGER_TEE_BACKEND selects it)',
  run: async () => {
    const { manager, backend } = startBackend(o);
    const declared = backend.selection;
    if (declared === undefined) {
      expect(backend.selection, 'no declaration, each time').toBeUndefined();
      return;
    }
    expect(Number.isFinite(declared.priority), 'priority is a finite number').toBe(true);
    expect(['probe', 'fallback'], 'detect').toContain(declared.detect);
    expect(backend.selection, 'the declaration is stable').toEqual(declared);
    // Chosen by its declaration alone, with no other backend loaded and no probing.
    const chooseAlone = (env: Readonly<Record<string, string>> = {}) => {
      const started = startBackend(o, { MANAGER_TEE_BACKEND: '', ...env });
      return new BackendRegistry([started.backend], started.manager.config, new HostEnvironment(os.tmpdir()), silent).choose({ probe: false });
    };
    if (declared.detect === 'fallback') expect((await chooseAlone()).name, 'a fallback is chosen alone').toBe(backend.name);
    if (declared.switch === undefined) return;
    const { env, value } = declared.switch;
    // The switch is one of the plugin's own settings, so it is documented with it.
    expect(manager.config.settings().find((s) => s.env === env)?.owner, `${env} is declared by ${o.plugin.name}`).toBe(o.plugin.name);
    expect([true, false, null], 'switch value').toContain(value);
    expect(startBackend(o, { [env]: 'true' }).backend.selection?.switch?.value, `${env}=true`).toBe(true);
    expect(startBackend(o, { [env]: 'false' }).backend.selection?.switch?.value, `${env}=false`).toBe(false);
    expect((await chooseAlone({ [env]: 'true' })).name, `${env}=true forces it on`).toBe(backend.name);
  },
});

const probes = (o: TeeBackendConformanceOptions): ConformanceCase => ({
  id: 'probe',
  title: 'probes any host without throwing, always with a reason',
  run: () =>
    inTempDir('conformance-host-', async (empty) => {
      for (const host of [new HostEnvironment(empty), new HostEnvironment('/')]) {
        const result = await startBackend(o).backend.probe(host);
        expect(typeof result.available, `available on ${host.rootDir}`).toBe('boolean');
        expect(result.reason.trim(), `a reason on ${host.rootDir}`).not.toBe('');
      }
    }),
});

const contributes = (o: TeeBackendConformanceOptions): ConformanceCase => ({
  id: 'contribution',
  title: 'contributes valid elements: known sections, non-empty argv words, deterministic, isolated per VM',
  run: async () => {
    const { backend } = startBackend(o);
    const elements: QemuElement[] = [];
    const render = (ctx: ReturnType<typeof vmContext>, seen: QemuElement[] = []) => {
      const command = new QemuCommand('qemu');
      const add = command.add.bind(command);
      command.add = (...added: QemuElement[]) => (seen.push(...added), add(...added));
      backend.contribute(command, ctx);
      return command.args();
    };
    const a = vmContext('/run/conformance', '11111111-1111-4111-8111-111111111111');
    const b = vmContext('/run/conformance', '22222222-2222-4222-8222-222222222222');
    const args = render(a, elements);
    expect(args.length, 'it adds arguments').toBeGreaterThan(0);
    expect(
      elements.filter((e) => !SECTIONS.has(e.section)).map((e) => e.constructor.name),
      'elements in unknown sections',
    ).toEqual([]);
    expect(args.every((w) => typeof w === 'string' && !w.includes('\0'))).toBe(true);
    expect(args.filter((w) => w.startsWith('-')).every((flag) => flag.length > 1)).toBe(true);
    expect(render(a), 'the same VM gets the same arguments').toEqual(args);
    // Whatever is per VM stays per VM: one VM's arguments never name another's id or files.
    expect(args.join(' '), "one VM's arguments never name another VM").not.toContain(b.id);
    expect(render(b).join(' ')).not.toContain(a.id);
  },
});

const files = (o: TeeBackendConformanceOptions): ConformanceCase => ({
  id: 'files',
  title: 'prepare succeeds and writes only inside the VM directory; cleanup removes what it made outside, twice or without a prepare',
  run: () =>
    inTempDir('conformance-vm-', async (root) => {
      const { backend } = startBackend(o);
      const run = path.join(root, 'run');
      const ctx = vmContext(run, '33333333-3333-4333-8333-333333333333');
      const other = vmContext(run, '44444444-4444-4444-8444-444444444444');
      for (const vm of [ctx, other]) mkdirSync(vm.dir, { recursive: true, mode: 0o700 });
      const outside = (rel: string) => !isInside(ctx.dir, path.join(root, rel));
      const before = snapshotTree(root);
      await mustResolve(backend.prepare(ctx), 'prepare under the conformance configuration');
      expect(diffSnapshots(before, snapshotTree(root), outside), 'prepare writes nothing outside the VM directory').toEqual({
        added: [],
        removed: [],
        changed: [],
      });
      const prepared = snapshotTree(root);
      await backend.cleanup(ctx);
      // Core removes the VM directory; cleanup owns only what prepare made outside it, and leaves others' files.
      expect(diffSnapshots(prepared, snapshotTree(root), outside), 'cleanup changes nothing outside the VM directory').toEqual({
        added: [],
        removed: [],
        changed: [],
      });
      await mustResolve(backend.cleanup(ctx), 'a second cleanup');
      await mustResolve(backend.cleanup(other), 'cleanup without prepare');
      await mustResolve(backend.cleanup(vmContext(run, '55555555-5555-4555-8555-555555555555')), 'cleanup without a VM directory');
      expect(diffSnapshots(prepared, snapshotTree(root), outside), 'which change nothing outside the VM directory').toEqual({
        added: [],
        removed: [],
        changed: [],
      });
    }),
});

const attestation = (o: TeeBackendConformanceOptions): ConformanceCase => ({
  id: 'attestation',
  title:
    o.attestation === 'document'
      ? 'answers the attestation policy with a well-formed document for itself, the same each time'
      : 'refuses the attestation policy with FAILED_PRECONDITION or a configuration error, with a reason',
  run: () =>
    inTempDir('conformance-policy-', async (root) => {
      const { backend } = startBackend(o);
      const ctx = vmContext(root, '66666666-6666-4666-8666-666666666666');
      const got = await outcome(backend.attestationPolicy(ctx));
      if (o.attestation === 'document') {
        expect(got.ok ? null : got.err, 'a policy document, not a refusal').toBeNull();
        if (!got.ok) return;
        const doc = got.value;
        expect(doc.tee, 'the document is for this backend').toBe(backend.name);
        // The CoRIM environment a verifier classifies the measurements by.
        expect(doc.environment.vendor.trim(), 'environment vendor').not.toBe('');
        expect(doc.environment.model.trim(), 'environment model').not.toBe('');
        expect(() => JSON.stringify(doc.json), 'the JSON serialises').not.toThrow();
        expect(doc.measurements.length, 'reference measurements').toBeGreaterThan(0);
        for (const m of doc.measurements) {
          expect(m.name, 'a measurement name').not.toBe('');
          expect(m.digest, `${m.name}'s digest`).toBeInstanceOf(Uint8Array);
          expect(m.digest.length, `${m.name}'s digest`).toBeGreaterThan(0);
        }
        const again = await backend.attestationPolicy(ctx);
        expect(JSON.stringify(again.json), 'the same document each time').toBe(JSON.stringify(doc.json));
        return;
      }
      expect(got.ok ? got.value : null, 'a refusal, not a document').toBeNull();
      if (got.ok) return;
      const err = got.err;
      const acceptable = (err instanceof ManagerError && err.code === ErrorCode.FailedPrecondition) || err instanceof ConfigError;
      expect(acceptable, `FAILED_PRECONDITION or a ConfigError, not ${String(err)}`).toBe(true);
      expect((err as Error).message.trim(), 'a reason').not.toBe('');
    }),
});

const validates = (o: TeeBackendConformanceOptions): ConformanceCase => ({
  id: 'validate',
  title: o.invalidEnv ? 'validate accepts its configuration and refuses a wrong one with a ConfigError' : 'validate accepts its configuration',
  run: async () => {
    await mustResolve(startBackend(o).backend.validate(), 'validate under the conformance configuration');
    if (!o.invalidEnv) return;
    const got = await outcome(startBackend(o, o.invalidEnv).backend.validate());
    expect(got.ok ? 'accepted' : got.err, `validate with ${JSON.stringify(o.invalidEnv)}`).toBeInstanceOf(ConfigError);
  },
});

/** The rules every TeeBackend keeps, as named cases. */
export function teeBackendConformanceCases(o: TeeBackendConformanceOptions): ConformanceCase[] {
  return [resolves(o), selection(o), probes(o), contributes(o), files(o), attestation(o), validates(o)];
}
