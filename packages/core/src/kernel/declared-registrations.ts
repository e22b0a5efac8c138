import type { DependencyContainer, InjectionToken } from 'tsyringe';
import type { ManagerPlugin } from '../api/plugin.js';
import { describeToken } from '../tokens.js';
import { PluginError } from './plugin-checks.js';

/** The container methods that add a provider: each is checked against what the plugin declares. */
const REGISTERING = new Set<PropertyKey>(['register', 'registerSingleton', 'registerType', 'registerInstance']);
/** The methods that would drop what others registered: a plugin has no business calling them. */
const WIPING = new Set<PropertyKey>(['reset', 'clearInstances', 'dispose']);

const tokenName = (token: InjectionToken): string =>
  typeof token === 'symbol' ? describeToken(token).name : typeof token === 'function' ? `the class ${token.name}` : String(token);

/**
 * The container a plugin's `register` gets: the manager's own, except that
 * registering a token the plugin declares in neither `provides` nor
 * `mayProvide` throws — an undeclared registration would silently replace a
 * core provider (the process launcher, the connection guard) or another
 * plugin's, past every check the declarations get.
 */
export function declaredContainer(container: DependencyContainer, plugin: ManagerPlugin): DependencyContainer {
  const declared = new Set<InjectionToken>([...(plugin.provides ?? []), ...(plugin.mayProvide ?? [])]);
  const listed = [...declared].map(tokenName).join(', ') || 'nothing';
  return new Proxy(container, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (WIPING.has(property)) {
        return () => {
          throw new PluginError(`plugin "${plugin.name}": calls container.${String(property)}(), which would drop what core and the other plugins registered`);
        };
      }
      if (!REGISTERING.has(property)) return (value as (...args: unknown[]) => unknown).bind(target);
      return (token: InjectionToken, ...rest: unknown[]) => {
        if (!declared.has(token)) {
          throw new PluginError(
            `plugin "${plugin.name}": registers ${tokenName(token)}, which it does not declare (it declares ${listed}): list it in provides or mayProvide, or leave it to its provider`,
          );
        }
        (value as (...args: unknown[]) => unknown).apply(target, [token, ...rest]);
        return receiver;
      };
    },
  });
}
