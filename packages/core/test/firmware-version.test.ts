import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { edk2TagOf, firmwareVersionOf } from '../src/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-fw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the EDK II release of a firmware file', () => {
  it.each([
    ['2022.11-6+deb12u2', 'edk2-stable202211'],
    ['2024.08-1', 'edk2-stable202408'],
    ['1:2023.05~rc1-2', 'edk2-stable202305'],
    ['2025.02', 'edk2-stable202502'],
    ['0~20191122.bd85bf54-2', null],
    ['', null],
  ])('package version %j → %j', (version, tag) => {
    expect(edk2TagOf(version)).toBe(tag);
  });

  it('is the release of the Debian package that installed it (as dpkg-query says), through a symlink too', async () => {
    const file = '/usr/share/OVMF/OVMF_CODE.fd';
    const owner = execFileSync('dpkg-query', ['-S', file], { encoding: 'utf8' }).split(':')[0]!;
    const version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', owner], { encoding: 'utf8' });
    const expected = `edk2-stable${version.slice(0, 4)}${version.slice(5, 7)}`;
    expect(await firmwareVersionOf(file)).toBe(expected);
    const link = path.join(dir, 'OVMF_CODE.fd');
    symlinkSync(file, link);
    expect(await firmwareVersionOf(link)).toBe(expected);
  });

  it('is unknown for a file no package owns, and for a missing one', async () => {
    const own = path.join(dir, 'self-built.fd');
    writeFileSync(own, 'not a package file');
    expect(await firmwareVersionOf(own)).toBeNull();
    expect(await firmwareVersionOf(path.join(dir, 'missing.fd'))).toBeNull();
  });
});
