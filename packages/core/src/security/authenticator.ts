import type { SliceValues } from '../api/settings.js';
import { ManagerError } from '../errors.js';
import type { authSettings } from './auth-settings.js';
import type { ApiAuth, Caller, ClientCertificate, Credentials } from '../api/api-auth.js';
import { allows, requiredRole, type ApiOperation } from './roles.js';

export type { ApiAuth, Caller, ClientCertificate, Credentials };
import { readTokenFile, type TokenEntry } from './token-file.js';
import { nodeCrypto } from '../node-builtins.js';

const { createHash, timingSafeEqual } = nodeCrypto;

const ANONYMOUS_ADMIN: Caller = { identity: 'anonymous', role: 'admin', via: 'none' };

function certificateIdentities(cert: ClientCertificate): string[] {
  const cn = cert.subject?.CN;
  const names = cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
  // "DNS:a.example, URI:spiffe://x, email:ops@x": the value after the type.
  for (const entry of (cert.subjectaltname ?? '').split(/,\s*/)) {
    const at = entry.indexOf(':');
    if (at > 0) names.push(entry.slice(at + 1));
  }
  return names;
}

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
// Tokens are compared as fixed-length digests, so neither content nor length leaks through timing.
const digest = (value: Buffer | string) => createHash('sha256').update(value).digest();

/**
 * Maps credentials to a role: a bearer token from MANAGER_AUTH_TOKENS_FILE
 * (compared in constant time, never logged), or a verified client
 * certificate's identity from MANAGER_AUTH_MTLS_ADMINS/READERS. With none of
 * them configured every caller is admin, as with the Go manager.
 */
export class Authenticator implements ApiAuth {
  private readonly tokens: ReadonlyArray<TokenEntry & { readonly digest: Buffer }>;
  private readonly admins: ReadonlySet<string>;
  private readonly readers: ReadonlySet<string>;
  readonly enabled: boolean;

  constructor(settings: SliceValues<typeof authSettings>['auth']) {
    this.tokens = settings.tokensFile === '' ? [] : readTokenFile(settings.tokensFile).map((t) => ({ ...t, digest: digest(t.token) }));
    this.admins = new Set(list(settings.mtlsAdmins));
    this.readers = new Set(list(settings.mtlsReaders));
    this.enabled = this.tokens.length > 0 || this.admins.size > 0 || this.readers.size > 0;
  }

  authorize(credentials: Credentials, operation: ApiOperation): Caller {
    if (requiredRole(operation) === null) return ANONYMOUS_ADMIN;
    const caller = this.identify(credentials);
    if (!caller) throw new ManagerError('CREDENTIALS_REQUIRED', 'this manager needs a bearer token or a client certificate it knows');
    if (!allows(caller.role, operation)) {
      throw new ManagerError('ROLE_INSUFFICIENT', `"${caller.identity}" has the ${caller.role} role; ${operation} needs ${requiredRole(operation)}`);
    }
    return caller;
  }

  private identify({ bearer, certificate }: Credentials): Caller | null {
    if (!this.enabled) return ANONYMOUS_ADMIN;
    if (bearer !== null && bearer !== '') {
      const given = digest(bearer);
      let found: TokenEntry | null = null;
      // Every entry is compared, whichever matches, so the time taken says nothing about which.
      for (const entry of this.tokens) if (timingSafeEqual(given, entry.digest)) found = entry;
      return found ? { identity: found.name, role: found.role, via: 'token' } : null;
    }
    if (certificate) {
      const names = certificateIdentities(certificate);
      const admin = names.find((n) => this.admins.has(n));
      if (admin !== undefined) return { identity: admin, role: 'admin', via: 'mtls' };
      const reader = names.find((n) => this.readers.has(n));
      if (reader !== undefined) return { identity: reader, role: 'reader', via: 'mtls' };
    }
    return null;
  }
}
