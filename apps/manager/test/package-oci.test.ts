import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, REPO } from './harness.js';
import { PACKAGES, VERSION } from './packaging.js';

interface ImageConfig {
  config: { Entrypoint?: string[]; Cmd?: string[]; User?: string; Volumes?: Record<string, object>; Env?: string[] };
}
interface RuntimeSpec {
  process: { args: string[]; terminal?: boolean; user: { uid: number; gid: number } };
}

describe('the OCI image', () => {
  const archive = path.join(PACKAGES, `cocos-manager_${VERSION}_amd64.oci.tar`);
  const work = mkdtempSync('/var/tmp/cm-oci-');
  const container = `cm-oci-test-${process.pid}`;

  beforeAll(async () => {
    // Built as the tests found the tree (see buildDeb).
    await execa('bash', [path.join(REPO, 'scripts/package/oci.sh'), '--no-build'], { cwd: REPO, all: true });
  }, 900_000);
  afterAll(async () => {
    await execa('runc', ['delete', '--force', container], { reject: false });
    rmSync(work, { recursive: true, force: true });
  });

  it("the archive's config names the entrypoint, the state and run volumes, and an unprivileged user", async () => {
    const image = JSON.parse((await execa('skopeo', ['inspect', '--config', `oci-archive:${archive}:${VERSION}`])).stdout) as ImageConfig;
    expect(image.config.Entrypoint).toEqual(['/usr/bin/cocos-manager']);
    expect(image.config.Cmd ?? []).toEqual([]);
    expect(Object.keys(image.config.Volumes ?? {}).sort()).toEqual(['/run/cocos-manager', '/var/lib/cocos-manager']);
    expect(image.config.User).toBe('cocos-manager');
    // As a non-root manager it would pick per-user directories: the volumes are named instead.
    expect(image.config.Env).toEqual(expect.arrayContaining(['MANAGER_STATE_DIR=/var/lib/cocos-manager', 'MANAGER_RUN_DIR=/run/cocos-manager']));
  });

  it('runc runs cocos-manager config --reference from it, as that user', async () => {
    await execa('skopeo', ['copy', '--quiet', `oci-archive:${archive}:${VERSION}`, `oci:${work}/layout:${VERSION}`]);
    const bundle = path.join(work, 'bundle');
    await execa('umoci', ['unpack', '--image', `${work}/layout:${VERSION}`, bundle]);
    const specFile = path.join(bundle, 'config.json');
    const spec = JSON.parse(readFileSync(specFile, 'utf8')) as RuntimeSpec;
    expect(spec.process.args).toEqual(['/usr/bin/cocos-manager']);
    expect(spec.process.user.uid).not.toBe(0);
    expect(readFileSync(path.join(bundle, 'rootfs/etc/passwd'), 'utf8')).toContain(`cocos-manager:x:${spec.process.user.uid}:`);
    // What `<engine> run <image> config --reference` does: arguments after the entrypoint.
    spec.process.args.push('config', '--reference');
    spec.process.terminal = false;
    writeFileSync(specFile, JSON.stringify(spec));
    const run = await execa('runc', ['run', '--bundle', bundle, container], { reject: false, all: true });
    expect(run.exitCode, run.all).toBe(0);
    const checkout = await execa('node', [MAIN, 'config', '--reference'], { env: { PATH: process.env['PATH'] ?? '' }, extendEnv: false });
    expect(run.stdout).toBe(checkout.stdout);
  });
});
