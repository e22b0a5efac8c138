import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { guidBytes } from '@cocos-manager/testing';
import { kernelHashesOf, kernelHashesPage, kernelHashesTable, measureLaunch } from '../src/index.js';
import { reference, vectorFiles } from './reference-vectors.js';

const files = vectorFiles();
afterAll(() => rmSync(files.dir, { recursive: true, force: true }));
const kernel = files.paths['{kernel}'] as string;
const initrd = files.paths['{initrd}'] as string;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();

describe('the kernel-hashes table of direct kernel boot', () => {
  it("equals sev-snp-measure's own table bytes (SevHashes.construct_table)", async () => {
    expect(kernelHashesTable(await kernelHashesOf(kernel, initrd, 'console=ttyS0 quiet')).toString('hex')).toBe(
      reference.kernelHashesTables['kernel+initrd+cmdline'],
    );
    expect(kernelHashesTable(await kernelHashesOf(kernel, undefined, undefined)).toString('hex')).toBe(reference.kernelHashesTables['kernel only']);
  });

  it('has the layout of sev_hashes.py: header GUID and length 168, then cmdline, initrd and kernel entries of 50 bytes, padded to 176', async () => {
    const table = kernelHashesTable(await kernelHashesOf(kernel, initrd, 'console=ttyS0 quiet'));
    expect(table).toHaveLength(176);
    expect(table.subarray(0, 16)).toEqual(guidBytes('9438d606-4f22-4cc9-b479-a793d411fd21'));
    expect(table.readUInt16LE(16)).toBe(168);
    const entries: Array<[string, Buffer]> = [
      ['97d02dd8-bd20-4c94-aa78-e7714d36ab2a', sha256(Buffer.from('console=ttyS0 quiet\0'))],
      ['44baf731-3a2f-4bd7-9af1-41e29169781d', sha256(readFileSync(initrd))],
      ['4de79437-abd2-427f-b835-d5b172d2045b', sha256(readFileSync(kernel))],
    ];
    entries.forEach(([guid, digest], i) => {
      const at = 18 + i * 50;
      expect(table.subarray(at, at + 16), guid).toEqual(guidBytes(guid));
      expect(table.readUInt16LE(at + 16)).toBe(50);
      expect(table.subarray(at + 18, at + 50)).toEqual(digest);
    });
    expect(table.subarray(168)).toEqual(Buffer.alloc(8));
    // No initrd and no command line: the digests of nothing and of a lone NUL.
    const bare = kernelHashesTable(await kernelHashesOf(kernel, undefined, undefined));
    expect(bare.subarray(18 + 18, 18 + 50)).toEqual(sha256(Buffer.of(0)));
    expect(bare.subarray(68 + 18, 68 + 50)).toEqual(sha256(Buffer.alloc(0)));
  });

  it('sits in its page at the offset of the SEV hash table block', async () => {
    const hashes = await kernelHashesOf(kernel, initrd, undefined);
    const page = kernelHashesPage(hashes, 0xc00);
    expect(page).toHaveLength(4096);
    expect(page.subarray(0, 0xc00)).toEqual(Buffer.alloc(0xc00));
    expect(page.subarray(0xc00, 0xc00 + 176)).toEqual(kernelHashesTable(hashes));
    expect(page.subarray(0xc00 + 176)).toEqual(Buffer.alloc(4096 - 0xc00 - 176));
  });

  it('every input is measured: another command line, initrd or kernel gives another digest', async () => {
    const ovmf = files.paths['{sev-test-firmware}'] as string;
    const base = { mode: 'snp' as const, ovmf, vcpus: 1, vcpuType: 'EPYC-v4', kernel, initrd, append: 'a' };
    const digests = await Promise.all(
      [
        base,
        { ...base, append: 'b' },
        { ...base, initrd: undefined },
        { ...base, kernel: initrd, initrd: kernel },
        { ...base, kernel: undefined, initrd: undefined, append: undefined },
      ].map(async (o) => (await measureLaunch(o)).digest.toString('hex')),
    );
    expect(new Set(digests).size).toBe(digests.length);
  });
});
