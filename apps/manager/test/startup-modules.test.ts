/**
 * What the serving binary carries: the code a default configuration does not
 * use is loaded when it is first used, not at start — the launch measurement
 * engine (the plain backend measures nothing), the tracing SDK (ratio 0), the
 * CLI parser (no subcommand) — and none of Node's own modules it never
 * uses: WebCrypto and undici, which an ES import of node:crypto or node:http
 * loads (core's node-builtins.ts). The real binary serves with a
 * module-loading hook that records every module it loads, and writes Node's
 * list of its internal modules as it exits.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, startManager, type RunningManager } from './harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-startup-modules-'));
const loadedFile = path.join(dir, 'loaded');
const hooks = path.join(dir, 'hooks.mjs');
const registrar = path.join(dir, 'register.mjs');
const builtinsFile = path.join(dir, 'builtins.json');
// The hooks run on the loader's own thread: each module's URL is appended as it loads.
writeFileSync(
  hooks,
  `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(loadedFile)}, url + '\\n');
  return next(url, context);
}
`,
);
writeFileSync(
  registrar,
  `import { register } from 'node:module';
import { writeFileSync } from 'node:fs';
register(${JSON.stringify(pathToFileURL(hooks).href)});
process.on('exit', () => writeFileSync(${JSON.stringify(builtinsFile)}, JSON.stringify(process.moduleLoadList)));
`,
);

const MEASURE_DIST = pathToFileURL(path.join(REPO, 'packages/measure/dist')).href;

describe('the serving binary loads only what its configuration uses', () => {
  let m: RunningManager | null = null;
  afterAll(async () => {
    await m?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('no launch measurement engine, tracing SDK or CLI parser while it serves the plain backend', async () => {
    m = await startManager('7230-7231', { NODE_OPTIONS: `--import=${pathToFileURL(registrar).href}` });
    const loaded = readFileSync(loadedFile, 'utf8').trim().split('\n');
    // The hook saw the manager's own modules: the measure plugin is registered, from its plugin entry.
    expect(loaded).toContain(`${MEASURE_DIST}/plugin/plugin.js`);
    expect(loaded.filter((url) => url.startsWith(`${MEASURE_DIST}/`)).sort()).toEqual([
      `${MEASURE_DIST}/plugin/on-demand-measurer.js`,
      `${MEASURE_DIST}/plugin/plugin.js`,
    ]);
    for (const lazy of ['@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-http', 'commander/'])
      expect(loaded.filter((url) => url.includes(`/node_modules/${lazy}`))).toEqual([]);
    // And it serves.
    expect((await m.call<{ vms: unknown[] }>('ListVms', {})).vms).toEqual([]);
  });

  it("none of Node's WebCrypto or undici (fetch) while it serves over gRPC and HTTP, up to its exit", async () => {
    expect(m).not.toBeNull();
    expect((await m!.http('GET', '/vms')).json).toEqual({ vms: [] });
    await m!.dispose();
    m = null;
    const builtins: string[] = JSON.parse(readFileSync(builtinsFile, 'utf8'));
    // The list is Node's own: the manager's HTTP and gRPC servers, and its crypto, are in it.
    for (const used of ['NativeModule http', 'NativeModule http2', 'NativeModule crypto']) expect(builtins).toContain(used);
    expect(builtins.filter((name) => /undici|webcrypto/.test(name))).toEqual([]);
  });
});
