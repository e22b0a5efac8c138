import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { devGuest, devGuestEnv } from '@cocos-manager/testing';
import { DEV_GUEST, managerServing, REPO } from './harness.js';

/** What the package build writes: build/packages/cocos-manager_<version>_amd64.deb. */
export const PACKAGES = path.join(REPO, 'build/packages');
/** A PATH with no Node on it (the machine's Node is in /usr/bin here, so the packaged tests use none of it). */
export const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** The version of apps/manager: what `npm run package:deb` names the package. */
export const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'apps/manager/package.json'), 'utf8')) as { version: string }).version;

/**
 * Builds (or finds up to date) the .deb of this tree, at `version`; returns its
 * path. `--no-build`: the tree is built before the tests, and an nx build now
 * would rewrite every dist/ under the lint and the binaries running beside.
 */
export async function buildDeb(version = VERSION): Promise<string> {
  await execa('bash', [path.join(REPO, 'scripts/package/deb.sh'), '--version', version, '--no-build'], { cwd: REPO, all: true });
  return path.join(PACKAGES, `cocos-manager_${version}_amd64.deb`);
}

/**
 * The package `deb` with another version and nothing else changed: what an
 * upgrade test installs first. Unpacked and rebuilt with dpkg-deb, fast
 * compression — a second run of the package build would only redo the same
 * tree, strip and compression for the one field that differs.
 */
export async function rebuildWithVersion(deb: string, version: string): Promise<string> {
  const work = mkdtempSync(path.join(PACKAGES, 'rebuild-'));
  try {
    await execa('dpkg-deb', ['--raw-extract', deb, work]);
    const control = path.join(work, 'DEBIAN/control');
    writeFileSync(control, readFileSync(control, 'utf8').replace(/^Version: .*$/m, `Version: ${version}`));
    const out = path.join(PACKAGES, `cocos-manager_${version}_amd64.deb`);
    await execa('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', work, out]);
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A field of the package's control file. */
export async function debField(deb: string, field: string): Promise<string> {
  return (await execa('dpkg-deb', ['--field', deb, field])).stdout.trim();
}

/** The names of a dependency field's packages (first of each alternative, versions dropped). */
export function packageNames(field: string): string[] {
  return field
    .split(',')
    .map((part) => part.split('|')[0]!.trim().split(/[\s(]/)[0]!)
    .filter((name) => name !== '');
}

/** The cached Debian 12 root with these packages (scripts/package/debian-root.sh). */
export async function debianRoot(packages: readonly string[]): Promise<string> {
  return (await execa('bash', [path.join(REPO, 'scripts/package/debian-root.sh'), ...packages], { cwd: REPO })).stdout.trim();
}

/**
 * Holds an exclusive lock of this machine's package tests (several clones
 * may run them at once; they install into the machine's own /usr and /etc).
 * Returns the function that releases it.
 */
export async function holdMachineLock(name: string): Promise<() => Promise<void>> {
  const holder = execa('flock', ['--exclusive', `/run/lock/cocos-manager-${name}.lock`, 'sh', '-c', 'echo locked; exec cat'], {
    stdin: 'pipe',
    reject: false,
    buffer: false,
  });
  await new Promise<void>((resolve, reject) => {
    holder.stdout?.once('data', () => resolve());
    holder.then((r) => reject(new Error(`flock exited (${r.exitCode}) before locking`)), reject);
  });
  return async () => {
    holder.stdin?.end();
    await holder;
  };
}

/** The variables an EnvironmentFile= sets (KEY=VALUE lines; comments and blanks skipped). */
export function environmentFile(file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) vars[m[1]!] = m[2]!;
  }
  return vars;
}

export interface PackagedManager {
  readonly grpcPort: number;
  readonly process: ResultPromise;
  output(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | undefined>;
}

/**
 * Starts an installed manager (`command`, e.g. /usr/bin/cocos-manager) as its
 * unit would: the environment file's variables, here over the dev guest's
 * settings and loopback transports on free ports; no Node on PATH.
 */
export async function startPackaged(command: readonly string[], env: Record<string, string>): Promise<PackagedManager> {
  const child = execa(command[0]!, command.slice(1), {
    env: {
      PATH: SYSTEM_PATH,
      ...devGuestEnv(devGuest(DEV_GUEST)),
      MANAGER_GRPC_HOST: '127.0.0.1',
      MANAGER_GRPC_PORT: '0',
      MANAGER_HTTP_HOST: '127.0.0.1',
      MANAGER_HTTP_PORT: '0',
      COCOS_JAEGER_TRACE_RATIO: '0',
      ...env,
    },
    extendEnv: false,
    reject: false,
    all: true,
    buffer: false,
    forceKillAfterDelay: false,
  });
  const { grpcPort, output } = await managerServing(child, command.join(' '));
  return {
    grpcPort,
    process: child,
    output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return (await child).exitCode;
    },
  };
}

/** Every path under `roots` whose name mentions cocos (what a package of ours could leave behind). */
export function cocosPaths(roots: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const where = path.join(dir, entry.name);
      if (entry.name.includes('cocos')) found.push(where);
      if (entry.isDirectory() && !entry.isSymbolicLink()) walk(where);
    }
  };
  for (const root of roots) {
    if (root.includes('cocos') && existsSync(root)) found.push(root);
    if (existsSync(root) && statSync(root).isDirectory()) walk(root);
  }
  return found.sort();
}
