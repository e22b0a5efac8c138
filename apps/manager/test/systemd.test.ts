import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN, REPO } from './harness.js';

const UNIT = path.join(REPO, 'init/systemd/cocos-manager.service');
const ENV_TEMPLATE = path.join(REPO, 'init/systemd/cocos-manager.env');
const DROP_IN = path.join(REPO, 'init/systemd/checkout.conf');
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-systemd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('systemd packaging', () => {
  it('the unit, with the drop-in that runs it from a checkout, passes systemd-analyze verify', async () => {
    // The package's ExecStart (/usr/bin/cocos-manager) is verified where it exists: package-deb.test.ts.
    expect(readFileSync(UNIT, 'utf8')).toContain('\nExecStart=/usr/bin/cocos-manager\n');
    const unit = path.join(dir, 'cocos-manager.service');
    copyFileSync(UNIT, unit);
    mkdirSync(`${unit}.d`);
    // This checkout stands in for /opt/cocos-manager.
    writeFileSync(
      path.join(`${unit}.d`, 'checkout.conf'),
      readFileSync(DROP_IN, 'utf8').replaceAll('/opt/cocos-manager/', REPO.endsWith('/') ? REPO : `${REPO}/`),
    );
    const result = await execa('systemd-analyze', ['verify', unit], { reject: false });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr.trim()).toBe('');
  });

  it('keeps VMs across restarts and is hardened', () => {
    const unit = readFileSync(UNIT, 'utf8');
    for (const line of [
      'KillMode=process',
      'RuntimeDirectoryPreserve=yes',
      'StateDirectory=cocos-manager',
      'ProtectSystem=full',
      'PrivateTmp=true',
      'NoNewPrivileges=true',
      'EnvironmentFile=/etc/cocos/cocos-manager.env',
    ]) {
      expect(unit).toContain(`\n${line}\n`);
    }
  });

  it('the env template lists every variable of the build, with defaults the manager accepts', async () => {
    const reference = (await execa('node', [MAIN, 'config', '--reference'], { env: { PATH: process.env['PATH'] ?? '' }, extendEnv: false })).stdout;
    const variables = [...reference.matchAll(/^\| `([A-Z0-9_]+)`/gm)].map((m) => m[1]!);
    const template = readFileSync(ENV_TEMPLATE, 'utf8');
    const entries = Object.fromEntries([...template.matchAll(/^#([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(entries).sort()).toEqual([...variables].sort());
    // Uncommented as is, the template is a valid configuration.
    const result = await execa('node', [MAIN, 'qemu-args'], { env: { PATH: process.env['PATH'] ?? '', ...entries }, extendEnv: false, reject: false });
    expect(result.exitCode, result.stderr).toBe(0);
  });
});
