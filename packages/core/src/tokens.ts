import type { DependencyContainer } from 'tsyringe';
import { ManagerError } from './errors.js';

/**
 * A typed injection token. At runtime it is a registered symbol
 * (`Symbol.for('cocos-manager:<name>')`), so two copies of core loaded side by
 * side still agree on every token; the type parameter only exists for the
 * compiler.
 */
export type Token<T> = symbol & { readonly __tokenType?: T };

interface TokenInfo {
  readonly name: string;
  /** Several providers (backends, transports) rather than exactly one. */
  readonly multi: boolean;
}

// Kept on globalThis under a registered symbol for the same reason the tokens
// are registered symbols: duplicated core copies must share it.
const TOKEN_INFO_KEY = Symbol.for('cocos-manager:token-info');
type TokenInfoMap = Map<symbol, TokenInfo>;
const globalStore = globalThis as unknown as Record<symbol, TokenInfoMap | undefined>;
const tokenInfo: TokenInfoMap = (globalStore[TOKEN_INFO_KEY] ??= new Map());

const TOKEN_NAME = /^[a-z0-9][a-z0-9.-]*(?:\/[a-z0-9][a-z0-9.-]*)*$/;

export function createToken<T>(name: string, options: { multi?: boolean } = {}): Token<T> {
  if (!TOKEN_NAME.test(name)) {
    throw new ManagerError('PLUGIN_INVALID', `token name "${name}" must be lower-case words separated by '.', '-' or '/'`);
  }
  const token = Symbol.for(`cocos-manager:${name}`) as Token<T>;
  const multi = options.multi ?? false;
  const known = tokenInfo.get(token);
  if (known && known.multi !== multi) {
    throw new ManagerError('PLUGIN_INVALID', `token "${name}" was created before as ${known.multi ? 'multi' : 'single'}`);
  }
  tokenInfo.set(token, { name, multi });
  return token;
}

export function describeToken(token: symbol): TokenInfo {
  return tokenInfo.get(token) ?? { name: token.description ?? String(token), multi: false };
}

/** Resolves one provider of a single token, typed. */
export function resolveToken<T>(container: DependencyContainer, token: Token<T>): T {
  return container.resolve<T>(token);
}

/** Resolves every provider of a multi token (none is an empty list). */
export function resolveAllTokens<T>(container: DependencyContainer, token: Token<T>): T[] {
  return container.isRegistered(token, true) ? container.resolveAll<T>(token) : [];
}

/** Resolves the provider of a single token, or null when no plugin provides it (an optional dependency). */
export function resolveOptionalToken<T>(container: DependencyContainer, token: Token<T>): T | null {
  return container.isRegistered(token, true) ? container.resolve<T>(token) : null;
}
