import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import {
  BOOT_STRATEGY,
  CONFIG,
  HOST,
  LOGGER,
  MANAGER_INFO,
  TEE_BACKEND,
  TRANSPORT,
  VM_SERVICE,
  type BootStrategy,
  type TeeBackend,
  type Transport,
} from '@cocos-manager/core';
import { Manager, type VmService } from '@cocos-manager/core/internal';
import { PlainBackend } from '@cocos-manager/backend-plain';
import { SevBackend } from '@cocos-manager/backend-sev';
import { SevSnpBackend } from '@cocos-manager/backend-sev-snp';
import { TdxBackend } from '@cocos-manager/backend-tdx';
import { GrpcTransport } from '@cocos-manager/transport-grpc';
import { HttpTransport } from '@cocos-manager/transport-http';
import { defaultPlugins } from '../src/plugins.js';

/**
 * Every constructor parameter must carry an explicit @inject: esbuild (vitest)
 * emits no decorator metadata, so a forgotten one resolves to undefined
 * silently. Resolving the whole default set and looking inside catches it.
 */
describe('default plugin set wiring', () => {
  const manager = Manager.create({ plugins: defaultPlugins, env: {}, logger: pino({ level: 'silent' }) });

  it('resolves every provider with all its dependencies', () => {
    const backends = manager.container.resolveAll<TeeBackend>(TEE_BACKEND);
    expect(backends.map((b) => b.name)).toEqual(['plain', 'sev-snp', 'sev', 'tdx']);
    expect(backends[0]).toBeInstanceOf(PlainBackend);
    expect(backends[1]).toBeInstanceOf(SevSnpBackend);
    expect(backends[2]).toBeInstanceOf(SevBackend);
    expect(backends[3]).toBeInstanceOf(TdxBackend);
    for (const backend of backends) expect((backend as unknown as { config: unknown }).config).toBe(manager.container.resolve(CONFIG));
    expect((backends[1] as unknown as { host: unknown }).host).toBe(manager.container.resolve(HOST));

    const transports = manager.container.resolveAll<Transport>(TRANSPORT);
    expect(transports.map((t) => t.name)).toEqual(['grpc', 'http']);
    expect(transports[0]).toBeInstanceOf(GrpcTransport);
    expect(transports[1]).toBeInstanceOf(HttpTransport);
    for (const transport of transports) {
      for (const field of ['service', 'settings', 'logger', 'metrics', 'auth', 'guard']) {
        expect((transport as unknown as Record<string, unknown>)[field], `${transport.name}.${field}`).toBeDefined();
      }
    }
    expect((transports[1] as unknown as Record<string, unknown>)['info']).toBe(manager.container.resolve(MANAGER_INFO));

    const service = manager.container.resolve<VmService>(VM_SERVICE);
    // Every injected dependency reached the lifecycle's shared runtime (none silently undefined).
    const runtime = (service as unknown as { rt: Record<string, unknown> }).rt;
    for (const field of ['settings', 'logger', 'backends', 'boots', 'ports', 'tracing', 'launcher', 'faults']) {
      expect(runtime[field], field).toBeDefined();
    }
    expect(manager.container.resolveAll<BootStrategy>(BOOT_STRATEGY).map((b) => b.name)).toEqual(['ram', 'disk']);
    expect(manager.container.resolve(LOGGER)).toBe(manager.logger);
  });

  it("the shipped backends declare the Go manager's auto-detection order: tdx, then sev-snp, then sev, then plain as the unprobed fallback", () => {
    const backends = manager.container.resolveAll<TeeBackend>(TEE_BACKEND);
    const byPriority = [...backends].sort((a, b) => (b.selection?.priority ?? 0) - (a.selection?.priority ?? 0));
    expect(byPriority.map((b) => [b.name, b.selection?.detect])).toEqual([
      ['tdx', 'probe'],
      ['sev-snp', 'probe'],
      ['sev', 'probe'],
      ['plain', 'fallback'],
    ]);
    // Each switch is its own plugin's setting, so core's settings list none of them.
    const owners = Object.fromEntries(manager.config.settings().map((s) => [s.env, s.owner]));
    expect(owners['MANAGER_QEMU_ENABLE_TDX']).toBe('@cocos-manager/backend-tdx');
    expect(owners['MANAGER_QEMU_ENABLE_SEV_SNP']).toBe('@cocos-manager/backend-sev-snp');
    expect(owners['MANAGER_QEMU_ENABLE_SEV']).toBe('@cocos-manager/backend-sev');
    expect(backends.map((b) => b.selection?.switch?.env)).toEqual([
      undefined,
      'MANAGER_QEMU_ENABLE_SEV_SNP',
      'MANAGER_QEMU_ENABLE_SEV',
      'MANAGER_QEMU_ENABLE_TDX',
    ]);
  });

  it('gives each manager instance its own container', () => {
    const other = Manager.create({ plugins: defaultPlugins, env: { MANAGER_QEMU_CPU: 'max' }, logger: pino({ level: 'silent' }) });
    expect(other.container).not.toBe(manager.container);
    expect(other.service).not.toBe(manager.service);
    expect(other.config.get('qemu.cpu')).toBe('max');
    expect(manager.config.get('qemu.cpu')).toBe('EPYC');
  });

  it("registers nothing in tsyringe's global container", async () => {
    const { container } = await import('tsyringe');
    expect(container.isRegistered(TEE_BACKEND)).toBe(false);
    expect(container.isRegistered(VM_SERVICE)).toBe(false);
  });
});
