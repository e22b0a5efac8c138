import { chmodSync, chownSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/manager-config.js';
import { ErrorCode } from '../src/errors.js';
import { Authenticator } from '../src/security/authenticator.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cocos-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ADMIN_TOKEN = 'a'.repeat(40);
const READER_TOKEN = 'r'.repeat(40);

function tokensFile(content: string, mode = 0o600): string {
  const file = path.join(dir, `tokens-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, content);
  chmodSync(file, mode);
  return file;
}

const auth = (over: Partial<{ tokensFile: string; mtlsAdmins: string; mtlsReaders: string }> = {}) =>
  new Authenticator({ tokensFile: '', mtlsAdmins: '', mtlsReaders: '', ...over });
const none = { bearer: null, certificate: null };

describe('Authenticator', () => {
  it('without configuration every caller is admin (the Go manager had no auth)', () => {
    const a = auth();
    expect(a.enabled).toBe(false);
    expect(a.authorize(none, 'create')).toMatchObject({ role: 'admin', via: 'none' });
  });

  it('tokens map to roles: reader reads, admin also creates; none or wrong is UNAUTHENTICATED', () => {
    const a = auth({ tokensFile: tokensFile(`# operators\nadmin ops ${ADMIN_TOKEN}\nreader dash ${READER_TOKEN}\n`) });
    expect(a.enabled).toBe(true);
    expect(a.authorize({ bearer: READER_TOKEN, certificate: null }, 'list')).toEqual({ identity: 'dash', role: 'reader', via: 'token' });
    expect(() => a.authorize({ bearer: READER_TOKEN, certificate: null }, 'create')).toThrow(expect.objectContaining({ code: ErrorCode.PermissionDenied }));
    expect(a.authorize({ bearer: ADMIN_TOKEN, certificate: null }, 'remove')).toMatchObject({ identity: 'ops', role: 'admin' });
    expect(() => a.authorize(none, 'list')).toThrow(expect.objectContaining({ code: ErrorCode.Unauthenticated }));
    expect(() => a.authorize({ bearer: `${ADMIN_TOKEN}x`, certificate: null }, 'list')).toThrow(expect.objectContaining({ code: ErrorCode.Unauthenticated }));
    // Health and metrics need no credentials.
    expect(a.authorize(none, 'health').role).toBe('admin');
  });

  it('errors never show a token', () => {
    const a = auth({ tokensFile: tokensFile(`admin ops ${ADMIN_TOKEN}\n`) });
    try {
      a.authorize({ bearer: 'wrong-token-value-that-is-long-enough', certificate: null }, 'list');
    } catch (err) {
      expect((err as Error).message).not.toContain('wrong-token');
    }
  });

  it('client certificates map by subject CN or SAN', () => {
    const a = auth({ mtlsAdmins: 'ops.example', mtlsReaders: 'dashboard, spiffe://x/reader' });
    expect(a.authorize({ bearer: null, certificate: { subject: { CN: 'dashboard' } } }, 'events')).toMatchObject({
      identity: 'dashboard',
      role: 'reader',
      via: 'mtls',
    });
    expect(
      a.authorize({ bearer: null, certificate: { subject: { CN: 'x' }, subjectaltname: 'DNS:ops.example, IP Address:127.0.0.1' } }, 'create'),
    ).toMatchObject({ role: 'admin' });
    expect(a.authorize({ bearer: null, certificate: { subjectaltname: 'URI:spiffe://x/reader' } }, 'get')).toMatchObject({ role: 'reader' });
    expect(() => a.authorize({ bearer: null, certificate: { subject: { CN: 'stranger' } } }, 'list')).toThrow(
      expect.objectContaining({ code: ErrorCode.Unauthenticated }),
    );
  });

  it.each([
    ['admin ops short', /token of "ops" is shorter than 32/],
    [`boss ops ${ADMIN_TOKEN}`, /role "boss" is not reader or admin/],
    [`admin ops ${ADMIN_TOKEN} extra`, /expected "<role> <name> <token>"/],
    [`admin ops ${ADMIN_TOKEN}\nreader ops ${READER_TOKEN}`, /name "ops" is used twice/],
    [`admin a ${ADMIN_TOKEN}\nreader b ${ADMIN_TOKEN}`, /token of "b" is also another entry's token/],
    ['# nothing\n', /holds no token/],
  ])('refuses a bad tokens file with one line: %j', (content, message) => {
    const err = (() => {
      try {
        auth({ tokensFile: tokensFile(content) });
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toMatch(message);
    expect(err?.message).not.toContain(ADMIN_TOKEN);
    expect(err?.message.split('\n')).toHaveLength(1);
  });

  it('refuses a tokens file others can read, or none at all', () => {
    expect(() => auth({ tokensFile: tokensFile(`admin ops ${ADMIN_TOKEN}\n`, 0o644) })).toThrow(
      /readable by group or others \(mode 644\); expected 0600 or 0400/,
    );
    expect(() => auth({ tokensFile: path.join(dir, 'missing') })).toThrow(/expected a readable tokens file \(ENOENT\)/);
  });

  it('refuses a 0600 tokens file owned by another local user, and a symbolic link to a good one', () => {
    const good = tokensFile(`admin ops ${ADMIN_TOKEN}\n`);
    const link = path.join(dir, 'tokens-link');
    symlinkSync(good, link);
    expect(() => auth({ tokensFile: link })).toThrow(/MANAGER_AUTH_TOKENS_FILE="[^"]+": the file is a symbolic link/);
    expect(auth({ tokensFile: good }).enabled).toBe(true);
    if (process.getuid?.() !== 0) return; // only root can give a file away
    const foreign = tokensFile(`admin ops ${ADMIN_TOKEN}\n`);
    chownSync(foreign, 4242, 4242);
    const err = (() => {
      try {
        auth({ tokensFile: foreign });
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toMatch(/the file is owned by uid 4242; expected this manager's uid 0 or root/);
    expect(err?.message).not.toContain(ADMIN_TOKEN);
  });
});
