import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_GUEST, managerServing, REPO } from './harness.js';

// What the two apps need, followed through the workspace's dependencies: a
// package added to either app's tree is packed too, without this list to keep.
const workspaceDirs = new Map(
  ['packages', 'apps'].flatMap((root) =>
    readdirSync(path.join(REPO, root)).map((dir) => {
      const manifest = JSON.parse(readFileSync(path.join(REPO, root, dir, 'package.json'), 'utf8')) as { name: string };
      return [manifest.name, `${root}/${dir}`] as const;
    }),
  ),
);
const dependencyClosure = (roots: string[]): string[] => {
  const seen = new Set<string>();
  const visit = (name: string) => {
    const dir = workspaceDirs.get(name);
    if (dir === undefined || seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(path.join(REPO, dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep);
  };
  roots.forEach(visit);
  return [...seen];
};
const PACKAGES = dependencyClosure(['cocos-manager', 'cocos-manager-cli']);
const work = mkdtempSync(path.join(os.tmpdir(), 'cm-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack contents', () => {
  it('the packed packages install into an empty directory and cocos-manager runs from there', async () => {
    const tarballs = path.join(work, 'tarballs');
    mkdirSync(tarballs);
    for (const pkg of PACKAGES) await execa('npm', ['pack', '--silent', '--pack-destination', tarballs, '-w', pkg], { cwd: REPO });
    const files = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'));
    expect(files).toHaveLength(PACKAGES.length);
    const listing = async (name: string) =>
      (
        await execa('tar', [
          '-tzf',
          path.join(
            tarballs,
            files.find((f) => f.includes(name))!,
          ),
        ])
      ).stdout;
    const contract = await listing('contract');
    expect(contract).toContain('package/proto/manager.proto');
    expect(contract).toContain('package/dist/index.d.ts');
    expect(contract).not.toContain('.tsbuildinfo');
    expect(await listing('transport-grpc')).toContain('package/dist/index.d.ts');
    // The console ships built: its bundle is in the tarball, its build tools are not dependencies.
    const webConsole = await listing('web-console');
    expect(webConsole).toContain('package/dist/ui/index.html');
    expect(webConsole).toMatch(/package\/dist\/ui\/assets\/index-[\w-]+\.js/);

    const app = path.join(work, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'pack-test', private: true }));
    await execa('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files.map((f) => path.join(tarballs, f))], { cwd: app, timeout: 300_000 });

    const bin = path.join(app, 'node_modules/.bin/cocos-manager');
    const env = { PATH: process.env['PATH'] ?? '', MANAGER_RUN_DIR: path.join(work, 'run'), MANAGER_STATE_DIR: path.join(work, 'state') };
    const args = await execa(bin, ['qemu-args'], { env, extendEnv: false, cwd: app });
    expect(JSON.parse(args.stdout)[0]).toBe('qemu-system-x86_64');

    const serve = execa(bin, [], {
      env: {
        ...env,
        MANAGER_QEMU_ENABLE_KVM: 'false',
        MANAGER_GRPC_PORT: '0',
        MANAGER_HTTP_PORT: '0',
        MANAGER_HTTP_HOST: '127.0.0.1',
        MANAGER_GRPC_HOST: '127.0.0.1',
        COCOS_JAEGER_TRACE_RATIO: '0',
        MANAGER_QEMU_DISK_IMG_KERNEL_FILE: path.join(DEV_GUEST, 'bzImage'),
        MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: path.join(DEV_GUEST, 'rootfs.cpio.gz'),
      },
      extendEnv: false,
      cwd: app,
      reject: false,
      all: true,
      buffer: false,
    });
    const { output } = await managerServing(serve, 'the installed cocos-manager');
    // The QEMU spawner (a script of core's dist, run by the same Node) starts from the installed packages too.
    for (const deadline = Date.now() + 10_000; !output().includes('"msg":"QEMU spawner started"') && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 50));
    expect(output()).toMatch(/"msg":"QEMU spawner started"/);

    // The CLI, installed from its own tarball with the contract package and no server plugin, talks to it.
    const grpc = output()
      .split('\n')
      .map((line) => (line.startsWith('{') ? (JSON.parse(line) as { msg?: string; transport?: string; address?: string }) : {}))
      .find((line) => line.msg === 'transport listening' && line.transport === 'grpc');
    expect(grpc?.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const cli = await execa(path.join(app, 'node_modules/.bin/cocos-manager-cli'), ['--server-url', grpc!.address!, '--json', 'list-vms'], {
      env,
      extendEnv: false,
      cwd: app,
      reject: false,
    });
    expect([cli.exitCode, cli.stderr, JSON.parse(cli.stdout || 'null')]).toEqual([0, '', []]);

    serve.kill('SIGTERM');
    expect((await serve).exitCode).toBe(0);
  });
});
