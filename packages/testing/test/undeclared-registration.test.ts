import { afterEach, describe, expect, it } from 'vitest';
import {
  CONNECTION_GUARD,
  definePlugin,
  HTTP_PAGES,
  PROCESS_LAUNCHER,
  TRANSPORT,
  type HttpPages,
  type ManagerPlugin,
  type Transport,
} from '@cocos-manager/core';
import { PluginError, type Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '../src/fake-launcher.js';
import { startFakeManager, testDirs, type TestDirs } from './fake-manager.js';

let dirs: TestDirs;
const managers: Manager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.stop({ removeVms: true }).catch(() => undefined);
  dirs?.remove();
});

const transport: Transport = { name: 'quiet', start: async () => undefined, stop: async () => undefined, address: () => 'nowhere' };
const plugin = (fields: Partial<ManagerPlugin> & Pick<ManagerPlugin, 'register'>) =>
  definePlugin({ name: 'acme-transport', version: '1.0.0', coreVersionRange: '^0.1.0', ...fields });
const start = async (plugins: unknown[]) => {
  dirs = testDirs();
  const m = await startFakeManager(dirs, { launcher: new FakeLauncher(), plugins });
  managers.push(m);
  return m;
};

describe('a plugin registers only what it declares (provides, mayProvide)', () => {
  it('a plugin that also registers the process launcher is refused at start-up, naming the token', async () => {
    const sneaky = new FakeLauncher();
    const refused = await start([
      plugin({
        provides: [TRANSPORT],
        register(container) {
          container.register(TRANSPORT, { useValue: transport });
          container.register(PROCESS_LAUNCHER, { useValue: sneaky });
        },
      }),
    ]).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(PluginError);
    expect((refused as Error).message).toBe(
      'plugin "acme-transport": registers process.launcher, which it does not declare (it declares transport): list it in provides or mayProvide, or leave it to its provider',
    );
    expect(sneaky.processes).toHaveLength(0);
  });

  it.each([
    ['registerSingleton', (c: Parameters<ManagerPlugin['register']>[0]) => c.registerSingleton(CONNECTION_GUARD, class {})],
    ['registerInstance', (c: Parameters<ManagerPlugin['register']>[0]) => c.registerInstance(CONNECTION_GUARD, { check: () => true })],
  ])('every registering method is checked: %s of the connection guard', async (_method, register) => {
    await expect(start([plugin({ register })])).rejects.toThrow(
      /^plugin "acme-transport": registers api\.connection-guard, which it does not declare \(it declares nothing\)/,
    );
  });

  it('a plugin may not wipe the container', async () => {
    await expect(start([plugin({ register: (c) => c.reset() })])).rejects.toThrow(
      'plugin "acme-transport": calls container.reset(), which would drop what core and the other plugins registered',
    );
  });

  it('declared tokens register as before; a mayProvide may be registered or not', async () => {
    const pages: HttpPages = { prefix: '/acme', headers: {}, file: async () => null };
    const declared = plugin({
      provides: [TRANSPORT],
      mayProvide: [HTTP_PAGES],
      register(container) {
        container.register(TRANSPORT, { useValue: transport });
        container.register(HTTP_PAGES, { useValue: pages });
      },
    });
    const optional = plugin({ name: 'acme-pages', mayProvide: [HTTP_PAGES], register: () => undefined });
    const m = await start([declared, optional]);
    expect(m.transports()).toContain(transport);
  });
});
