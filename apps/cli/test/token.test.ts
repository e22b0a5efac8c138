import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkToken, readTokenFile } from '../src/token.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cli-token-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function tokenFile(name: string, text: string, mode = 0o600): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  chmodSync(file, mode);
  return file;
}

describe('--token-file', () => {
  it('reads the token on the first line, 0600 or 0400', () => {
    expect(readTokenFile(tokenFile('a', 's3cret-token\n'))).toBe('s3cret-token');
    expect(readTokenFile(tokenFile('b', '  s3cret-token  \r\nignored\n', 0o400))).toBe('s3cret-token');
  });

  it.each([0o640, 0o604, 0o644, 0o660])('refuses mode %s without showing the token', (mode) => {
    const file = tokenFile(`m${mode}`, 'never-shown\n', mode);
    expect(() => readTokenFile(file)).toThrow(
      `--token-file ${file}: readable by group or others (mode ${mode.toString(8)}); expected 0600 or 0400 (chmod 600 ${file})`,
    );
  });

  it('refuses an empty first line, a line with spaces, a missing file', () => {
    expect(() => readTokenFile(tokenFile('empty', '\nsecond\n'))).toThrow('expected the token on its first line, found none');
    expect(() => readTokenFile(tokenFile('spaces', 'two words\n'))).toThrow('the first line holds spaces; expected the token alone');
    expect(() => readTokenFile(path.join(dir, 'missing'))).toThrow(`--token-file ${path.join(dir, 'missing')}: ENOENT`);
  });
});

describe('--token / COCOS_MANAGER_TOKEN', () => {
  it('takes one word, names the source otherwise', () => {
    expect(checkToken('abc', '--token')).toBe('abc');
    expect(() => checkToken('a b', 'COCOS_MANAGER_TOKEN')).toThrow('COCOS_MANAGER_TOKEN: expected a token without spaces');
  });
});
