import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BOOT_STRATEGY, CONFIG, CORE_VERSION, createToken, definePlugin, TEE_BACKEND, TRANSPORT, type ManagerPlugin } from '../src/index.js';
import { checkPlugins } from '../src/internal.js';

const plugin = (overrides: Partial<ManagerPlugin> = {}): ManagerPlugin =>
  definePlugin({ name: '@acme/thing', version: '1.0.0', coreVersionRange: '^0.1.0', register: () => undefined, ...overrides });

describe('kernel up-front plugin checks', () => {
  it('accepts a valid list', () => {
    expect(checkPlugins([plugin(), plugin({ name: 'other', provides: [TEE_BACKEND] })], '0.1.0')).toHaveLength(2);
  });

  it.each([
    ['not an object', [42], 'plugin #1: is not a plugin object (got number)'],
    ['bad name', [plugin({ name: 'Bad Name' })], 'plugin "Bad Name": name "Bad Name" must be an npm package name'],
    ['bad version', [plugin({ version: 'one' })], 'plugin "@acme/thing": version "one" is not a semver version'],
    ['bad range', [plugin({ coreVersionRange: 'whenever' })], 'plugin "@acme/thing": coreVersionRange "whenever" is not a semver range'],
    ['incompatible core', [plugin({ coreVersionRange: '^2.0.0' })], 'plugin "@acme/thing": supports @cocos-manager/core ^2.0.0, but this is core 0.1.0'],
    ['no register', [{ ...plugin(), register: undefined }], 'plugin "@acme/thing": register must be a function'],
    ['listed twice', [plugin(), plugin()], 'plugin "@acme/thing": listed twice'],
    ['provides a core token', [plugin({ provides: [CONFIG] })], 'plugin "@acme/thing": provides config, which @cocos-manager/core already provides'],
  ])('%s', (_label, list, message) => {
    expect(() => checkPlugins(list, '0.1.0')).toThrow(message);
  });

  it('refuses two providers of a single token, naming both', () => {
    const single = createToken<string>('test.single-thing');
    expect(() => checkPlugins([plugin({ name: 'a', provides: [single] }), plugin({ name: 'b', provides: [single] })], '0.1.0')).toThrow(
      'plugin "b": provides test.single-thing, which a already provides (only one provider is allowed)',
    );
  });

  it('allows several providers of a multi token', () => {
    expect(() =>
      checkPlugins([plugin({ name: 'a', provides: [TRANSPORT, BOOT_STRATEGY] }), plugin({ name: 'b', provides: [TRANSPORT] })], '0.1.0'),
    ).not.toThrow();
  });

  it('refuses a requirement nobody provides', () => {
    const needed = createToken<string>('test.needed');
    expect(() => checkPlugins([plugin({ requires: [needed] })], '0.1.0')).toThrow(
      'plugin "@acme/thing": requires test.needed, which no plugin in the list provides',
    );
  });

  it('tokens are registered symbols, so two copies of core agree', () => {
    expect(createToken('tee.backend', { multi: true })).toBe(TEE_BACKEND);
    expect(TEE_BACKEND).toBe(Symbol.for('cocos-manager:tee.backend'));
    expect(() => createToken('tee.backend')).toThrow(/created before as multi/);
  });

  it('CORE_VERSION is the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(CORE_VERSION).toBe(pkg.version);
  });
});
