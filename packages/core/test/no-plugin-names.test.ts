import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');
/** The HTTP transport's source: a transport, like core, shows what plugins declare and names none of them. */
const HTTP_SRC = path.resolve(SRC, '../../transport-http/src');

/**
 * The names of the backends we ship. Core chooses among backends by what they
 * declare, so none of these may appear in its source, not even in a comment:
 * a name in core is a place where a plugin's knowledge leaked in.
 */
const PLUGIN_NAMES: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'sev-snp', pattern: /sev-snp/i },
  { name: 'tdx', pattern: /tdx/i },
  { name: 'plain', pattern: /\bplain\b/i },
];

/**
 * The words of the one VM device we ship (device-gpu): its wire fields,
 * pool status and host checks are its own, so core and the HTTP transport
 * show them without knowing them.
 */
const DEVICE_NAMES: ReadonlyArray<{ name: string; pattern: RegExp }> = [
  { name: 'gpu', pattern: /gpu/i },
  { name: 'vfio', pattern: /vfio/i },
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : [full];
  });
}

/** Every `file:line: text` under `root` where one of `names` occurs. */
function findPluginNames(root: string, names = PLUGIN_NAMES): string[] {
  const hits: string[] = [];
  for (const file of sourceFiles(root)) {
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((line, index) => {
        for (const { name, pattern } of names) {
          if (pattern.test(line)) hits.push(`${path.relative(path.resolve(root, '..'), file)}:${index + 1}: "${name}" in ${line.trim()}`);
        }
      });
  }
  return hits;
}

describe('core (and the HTTP transport) knows no plugin by name', () => {
  it('has source files to check', () => {
    expect(sourceFiles(SRC).filter((f) => f.endsWith('.ts')).length).toBeGreaterThan(20);
    expect(sourceFiles(HTTP_SRC).filter((f) => f.endsWith('.ts')).length).toBeGreaterThan(10);
  });

  it('names no backend anywhere in packages/core/src', () => {
    const hits = findPluginNames(SRC);
    expect(hits, `backend names in core (reword generically, or move the knowledge into the backend):\n${hits.join('\n')}`).toEqual([]);
  });

  it('names no device (gpu, vfio) in packages/core/src or packages/transport-http/src', () => {
    const hits = [...findPluginNames(SRC, DEVICE_NAMES), ...findPluginNames(HTTP_SRC, DEVICE_NAMES)];
    expect(hits, `device names in core or the HTTP transport (let the device describe it: VmDevice.wire, VmDevice.status):\n${hits.join('\n')}`).toEqual([]);
  });

  it('the check itself catches each name, in any case, and plain only as a word', () => {
    const lines = ['// picks TDX first', "const name = 'Sev-Snp';", 'a plain VM', 'plaintext is fine', 'explained'];
    const found = lines.map((line) => PLUGIN_NAMES.filter(({ pattern }) => pattern.test(line)).map(({ name }) => name));
    expect(found).toEqual([['tdx'], ['sev-snp'], ['plain'], [], []]);
    const deviceLines = ['// every GPU taken', 'gpus_in_use: pool.inUse', "driver: 'vfio-pci'", 'VFIO_PCI_DIR', 'a passed-through device', 'GPT, GUI and PCI'];
    const devices = deviceLines.map((line) => DEVICE_NAMES.filter(({ pattern }) => pattern.test(line)).map(({ name }) => name));
    expect(devices).toEqual([['gpu'], ['gpu'], ['vfio'], ['vfio'], [], []]);
  });
});
