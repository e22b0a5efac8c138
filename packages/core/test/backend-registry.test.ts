import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  coreSettings,
  ErrorCode,
  formats as f,
  HostEnvironment,
  type ManagerConfig,
  ManagerError,
  setting,
  type BackendSelection,
  type TeeBackend,
} from '../src/index.js';
import { loadManagerConfig, BackendRegistry } from '../src/internal.js';

/** A backend that records its probes; `available` decides their answer. */
function backend(name: string, selection: BackendSelection | undefined, available = true) {
  const probed: string[] = [];
  const b: TeeBackend & { probed: string[] } = {
    name,
    ...(selection ? { selection } : {}),
    probed,
    probe: async () => (probed.push(name), { available, reason: available ? `${name} found` : `no ${name} here` }),
    validate: async () => undefined,
    prepare: async () => undefined,
    contribute: () => undefined,
    cleanup: async () => undefined,
    attestationPolicy: async () => {
      throw new ManagerError('ATTESTATION_UNAVAILABLE', 'none');
    },
  };
  return b;
}

const switchSlice = {
  alpha: { enable: setting({ env: 'X_ENABLE_ALPHA', doc: '', default: '', format: f.optionalBoolean }) },
  beta: { enable: setting({ env: 'X_ENABLE_BETA', doc: '', default: '', format: f.optionalBoolean }) },
  gamma: { enable: setting({ env: 'X_ENABLE_GAMMA', doc: '', default: '', format: f.optionalBoolean }) },
};

function loadConfig(env: Record<string, string>) {
  return loadManagerConfig(
    [
      { owner: '@cocos-manager/core', slice: coreSettings },
      { owner: 'test-plugins', slice: switchSlice },
    ],
    env,
  );
}

// An empty host root (no /dev, no /sys) for every registry of this file: the probes read nothing from it.
const hostRoot = mkdtempSync(path.join(os.tmpdir(), 'registry-host-'));
afterAll(() => rmSync(hostRoot, { recursive: true, force: true }));

function registryOver(backends: TeeBackend[], config: ManagerConfig) {
  const host = new HostEnvironment(hostRoot);
  return new BackendRegistry(backends, config, host, pino({ level: 'silent' }));
}

const registry = (backends: TeeBackend[], env: Record<string, string> = {}) => ({ registry: registryOver(backends, loadConfig(env)) });

/** A backend whose switch is read from configuration the way a real backend reads its own slice. */
function switched(config: ManagerConfig, key: 'alpha' | 'beta' | 'gamma', priority: number, available: boolean) {
  const b = backend(key, undefined, available);
  Object.defineProperty(b, 'selection', {
    get: (): BackendSelection => ({ priority, detect: 'probe', switch: { env: switchSlice[key].enable.env, value: config.read(switchSlice)[key].enable } }),
  });
  return b;
}

/** A registry over switched backends alpha (300), beta (200), gamma (100), and a fallback. */
function confidentialSet(env: Record<string, string>, available: { alpha?: boolean; beta?: boolean; gamma?: boolean } = {}) {
  const config = loadConfig(env);
  const alpha = switched(config, 'alpha', 300, available.alpha ?? false);
  const beta = switched(config, 'beta', 200, available.beta ?? false);
  const gamma = switched(config, 'gamma', 100, available.gamma ?? false);
  const fallback = backend('basic', { priority: 0, detect: 'fallback' });
  // Registration order differs from priority order on purpose.
  return { registry: registryOver([fallback, gamma, alpha, beta], config), alpha, beta, gamma, fallback };
}

describe('backend selection (no backend known by name)', () => {
  it('MANAGER_TEE_BACKEND wins over switches and auto-detection', async () => {
    const { registry: r } = confidentialSet({ MANAGER_TEE_BACKEND: 'gamma', X_ENABLE_ALPHA: 'true' });
    expect((await r.choose({ probe: true })).name).toBe('gamma');
  });

  it('an unknown MANAGER_TEE_BACKEND names the loaded backends', async () => {
    const { registry: r } = confidentialSet({ MANAGER_TEE_BACKEND: 'sgx' });
    await expect(r.choose({ probe: false })).rejects.toThrow(
      new ConfigError('MANAGER_TEE_BACKEND selects the "sgx" backend, but no loaded plugin provides it (loaded backends: basic, gamma, alpha, beta)'),
    );
  });

  it("a backend's own switch forces it on without probing", async () => {
    const set = confidentialSet({ X_ENABLE_GAMMA: 'true' });
    expect((await set.registry.choose({ probe: true })).name).toBe('gamma');
    expect([...set.alpha.probed, ...set.beta.probed, ...set.gamma.probed]).toEqual([]);
  });

  it("two switches on: one line naming both variables, from the backends' declarations", async () => {
    const { registry: r } = confidentialSet({ X_ENABLE_GAMMA: 'true', X_ENABLE_ALPHA: 'true' });
    await expect(r.choose({ probe: false })).rejects.toThrow(
      new ConfigError('X_ENABLE_ALPHA and X_ENABLE_GAMMA are both true: a host runs one kind of confidential VM; set one of them to false'),
    );
  });

  it('three switches on: all named', async () => {
    const { registry: r } = confidentialSet({ X_ENABLE_GAMMA: 'true', X_ENABLE_ALPHA: 'true', X_ENABLE_BETA: 'true' });
    await expect(r.choose({ probe: false })).rejects.toThrow('X_ENABLE_ALPHA, X_ENABLE_BETA and X_ENABLE_GAMMA are all true');
  });

  it('auto-detection probes by declared priority, highest first, and takes the first available', async () => {
    const set = confidentialSet({}, { beta: true, gamma: true });
    expect((await set.registry.choose({ probe: true })).name).toBe('beta');
    expect([...set.alpha.probed, ...set.beta.probed, ...set.gamma.probed]).toEqual(['alpha', 'beta']);
  });

  it('a switch set to false rules its backend out of auto-detection', async () => {
    const set = confidentialSet({ X_ENABLE_BETA: 'false' }, { beta: true, gamma: true });
    expect((await set.registry.choose({ probe: true })).name).toBe('gamma');
    expect(set.beta.probed).toEqual([]);
  });

  it('nothing confidential available: the fallback, itself unprobed', async () => {
    const set = confidentialSet({});
    expect((await set.registry.choose({ probe: true })).name).toBe('basic');
    expect(set.fallback.probed).toEqual([]);
  });

  it('without probing (a preview on any machine), the fallback, and no probe at all', async () => {
    const set = confidentialSet({}, { alpha: true });
    expect((await set.registry.choose({ probe: false })).name).toBe('basic');
    expect([...set.alpha.probed, ...set.beta.probed, ...set.gamma.probed, ...set.fallback.probed]).toEqual([]);
  });

  it('a backend without a selection is chosen only by name', async () => {
    const { registry: r } = registry([backend('manual', undefined), backend('basic', { priority: 0, detect: 'fallback' })]);
    expect((await r.choose({ probe: true })).name).toBe('basic');
    const { registry: only } = registry([backend('manual', undefined)]);
    await expect(only.choose({ probe: true })).rejects.toThrow(
      new ConfigError(
        'MANAGER_TEE_BACKEND is empty and no loaded backend takes part in auto-detection (loaded backends: manual); set MANAGER_TEE_BACKEND to one of them',
      ),
    );
  });

  it("no fallback and nothing available: FAILED_PRECONDITION with every probe's reason", async () => {
    const { registry: r } = registry([backend('one', { priority: 2, detect: 'probe' }, false), backend('two', { priority: 1, detect: 'probe' }, false)]);
    await expect(r.choose({ probe: true })).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message:
        'auto-detection found no backend this host can run (one: no one here; two: no two here); set MANAGER_TEE_BACKEND to one of the loaded backends (one, two)',
    });
    await expect(r.choose({ probe: false })).rejects.toThrow(
      /without probing the host, auto-detection needs a fallback backend and none is loaded \(loaded backends: one, two\)/,
    );
  });

  it('a declared priority beats registration order, fallback or not', async () => {
    const { registry: r } = registry([backend('low', { priority: 1, detect: 'fallback' }), backend('high', { priority: 5, detect: 'fallback' })]);
    expect((await r.choose({ probe: false })).name).toBe('high');
  });

  it('refuses two backends with one priority, or a priority that is not a number', () => {
    expect(() => registry([backend('a', { priority: 1, detect: 'probe' }), backend('b', { priority: 1, detect: 'fallback' })])).toThrow(
      new ConfigError(
        'the "a" and "b" backends both declare auto-detection priority 1: auto-detection needs one order, so each backend needs its own priority',
      ),
    );
    expect(() => registry([backend('a', { priority: Number.NaN, detect: 'probe' })])).toThrow(
      'the "a" backend declares auto-detection priority NaN: expected a finite number',
    );
    expect(() => registry([backend('a', undefined), backend('a', undefined)])).toThrow('two TEE backends are named "a"');
  });

  it('activate probes the chosen fallback and says why it cannot run', async () => {
    const { registry: r } = registry([backend('basic', { priority: 0, detect: 'fallback' }, false)]);
    await expect(r.activate()).rejects.toMatchObject({
      code: ErrorCode.FailedPrecondition,
      message: 'the basic backend cannot run on this host: no basic here',
    });
  });
});
