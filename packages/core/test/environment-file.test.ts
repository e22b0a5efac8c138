import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ManagerError } from '../src/errors.js';
import { emptyCreateVmRequest, type CreateVmRequest } from '../src/api/vm-types.js';
import { validateCreateRequest } from '../src/vm/request-validation.js';
import { renderEnvironmentFile } from '../src/vm/state/vm-files.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cocos-envfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ID = '11111111-2222-4333-8444-555555555555';
// systemd's own env-file parser, as the environment.d generator runs it.
const SYSTEMD_ENV_GENERATOR = '/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator';

/** The variables `sh` (dash) sees after sourcing the file. */
async function readWithShell(file: string): Promise<Record<string, string>> {
  const { stdout } = await execa('sh', ['-c', 'set -a; . "$1"; env -0', 'sh', file], { env: {}, extendEnv: false });
  return Object.fromEntries(
    stdout
      .split('\0')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** The variables systemd's env-file parser reads from the file. */
async function readWithSystemd(content: string): Promise<Record<string, string>> {
  const home = mkdtempSync(path.join(dir, 'xdg-'));
  mkdirSync(path.join(home, 'environment.d'));
  writeFileSync(path.join(home, 'environment.d', '50-vm.conf'), content);
  const { stdout } = await execa(SYSTEMD_ENV_GENERATOR, [], { env: { XDG_CONFIG_HOME: home }, extendEnv: false });
  // It prints what it parsed, double-quoting (with backslash escapes) values that need it.
  const unquote = (v: string) => (v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v);
  return Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => /^(AGENT|AWS)_/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), unquote(l.slice(l.indexOf('=') + 1))]),
  );
}

function expectedVariables(req: CreateVmRequest): Record<string, string> {
  return Object.fromEntries(
    renderEnvironmentFile(ID, req)
      .trimEnd()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

const isAccepted = (req: CreateVmRequest) => {
  try {
    validateCreateRequest(req);
    return true;
  } catch (err) {
    if (err instanceof ManagerError) return false;
    throw err;
  }
};

describe("the guest's environment file", () => {
  it.each(['a\\b', "it's", 'say "hi"', '$HOME', '`id`', 'a;reboot', 'x&y', 'a|b', '<in', '(sub)', '~root', 'two words'])(
    'refuses %j in a value, naming the field',
    (value) => {
      expect(() => validateCreateRequest(emptyCreateVmRequest({ agentCertsToken: value }))).toThrow(
        /^agent_certs_token contains ".*": values of the guest's environment file must not contain/,
      );
    },
  );

  it('accepted values read back the same through sh and through systemd', { timeout: 60_000 }, async () => {
    const safe = fc.constantFrom('a', 'Z', '9', '-', '_', '.', ':', '/', '?', '=', '+', '%', '@', ',', '#', '!', '*', '[', '{', 'é');
    const unsafe = fc.constantFrom('$', '"', "'", '\\', '`', ' ', ';', '&', '~', '(');
    const value = fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: safe, maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: fc.oneof(safe, unsafe), maxLength: 12 }) },
    );
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(value, value, value, async (url, token, secret) => {
        const req = emptyCreateVmRequest({ agentCvmServerUrl: url, agentCertsToken: token, awsSecretAccessKey: secret, agentLogLevel: 'debug' });
        if (!isAccepted(req)) return;
        checked++;
        const content = renderEnvironmentFile(ID, req);
        const file = path.join(dir, `environment-${checked}`);
        writeFileSync(file, content);
        const expected = expectedVariables(req);
        const shell = await readWithShell(file);
        for (const [k, v] of Object.entries(expected)) expect(shell[k], `sh reading ${k}`).toBe(v);
        // The environment.d generator drops empty assignments (a unit's EnvironmentFile= keeps them empty).
        const nonEmpty = Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== ''));
        expect(await readWithSystemd(content)).toEqual(nonEmpty);
      }),
      { numRuns: 80 },
    );
    expect(checked).toBeGreaterThan(20);
  });
});
