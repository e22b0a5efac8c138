import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CreateVmRequest } from '../../api/vm-types.js';
import { settleAll } from '../settle-all.js';
import { CREATE_REQUEST_FIELDS, GUEST_ID_VARIABLE } from '../../api/create-request-fields.js';

/** Where the guest finds its certificates (the certs share is mounted there). */
export { GUEST_CERT_PATHS } from '../../api/create-request-fields.js';

/**
 * Where the 9p shares live: by default inside the VM's directory; with
 * MANAGER_QEMU_ENV_MOUNT / MANAGER_QEMU_CERTS_MOUNT, in `<mount>/<vm-id>`
 * (for operators who keep them on a particular filesystem, e.g. a tmpfs).
 */
export interface ShareRoots {
  readonly envMount: string;
  readonly certsMount: string;
}

export interface VmLayout {
  readonly dir: string;
  readonly envDir: string;
  readonly certsDir: string;
  readonly consoleLog: string;
  readonly qmpSocket: string;
}

/** The per-VM directory layout under MANAGER_RUN_DIR/<vm-id>/. */
export function vmLayout(runDir: string, id: string, roots: ShareRoots = { envMount: '', certsMount: '' }): VmLayout {
  const dir = path.join(runDir, id);
  return {
    dir,
    envDir: roots.envMount ? path.join(path.resolve(roots.envMount), id) : path.join(dir, 'env'),
    certsDir: roots.certsMount ? path.join(path.resolve(roots.certsMount), id) : path.join(dir, 'certs'),
    consoleLog: path.join(dir, 'console.log'),
    qmpSocket: path.join(dir, 'qmp.sock'),
  };
}

/** The `environment` file of the env share (README: Lifecycle and supervision, the env share), as KEY=VALUE lines. */
export function renderEnvironmentFile(id: string, req: CreateVmRequest): string {
  const lines: Array<{ order: number; line: string }> = [{ order: GUEST_ID_VARIABLE.order, line: `${GUEST_ID_VARIABLE.variable}=${id}` }];
  for (const field of CREATE_REQUEST_FIELDS) {
    const env = field.env;
    if (!env) continue;
    const value = req[field.key];
    if (typeof env.write === 'object') {
      // A PEM file: the guest reads it from the certs share, when one was given.
      if (typeof value !== 'string' && value.byteLength > 0) lines.push({ order: env.order, line: `${env.variable}=${env.write.guestPath}` });
    } else if (typeof value === 'string' && (env.write === 'value' || value !== '')) {
      lines.push({ order: env.order, line: `${env.variable}=${value}` });
    }
  }
  return lines
    .sort((a, b) => a.order - b.order)
    .map(({ line }) => `${line}\n`)
    .join('');
}

const SECRET_DIR = 0o700;
const SECRET_FILE = 0o600;

/** Creates the VM's own directory, 0700. Fails if it exists: ids are never reused. */
export async function createVmDir(dir: string): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true, mode: SECRET_DIR });
  await mkdir(dir, { mode: SECRET_DIR });
}

/**
 * Writes the env and certs shares. They hold secrets: 0700 directories, 0600
 * files. The two shares, and the files in each, are independent: written side
 * by side (each filesystem call is a trip through libuv's pool; one after the
 * other they were a millisecond of every create).
 */
export async function writeShares(layout: VmLayout, id: string, req: CreateVmRequest): Promise<void> {
  const write = (file: string, data: string | Uint8Array) => writeFile(file, data, { mode: SECRET_FILE, flag: 'wx' });
  const share = async (dir: string, files: ReadonlyArray<readonly [string, string | Uint8Array]>) => {
    // Inside the VM's directory (the default) the parent exists already; a mount elsewhere may need making.
    if (path.dirname(dir) !== layout.dir) await mkdir(path.dirname(dir), { recursive: true, mode: SECRET_DIR });
    await mkdir(dir, { mode: SECRET_DIR });
    await settleAll(files.map(([name, data]) => write(path.join(dir, name), data)));
  };
  await settleAll([
    share(layout.envDir, [['environment', renderEnvironmentFile(id, req)]]),
    share(layout.certsDir, [
      ['cert.pem', req.agentCvmClientCert],
      ['key.pem', req.agentCvmClientKey],
      ['ca.pem', req.agentCvmServerCaCert],
    ]),
  ]);
}

/** Removes everything of one VM: its directory and its shares wherever they are. */
export async function removeVmFiles(layout: VmLayout): Promise<void> {
  for (const dir of [layout.envDir, layout.certsDir, layout.dir]) await rm(dir, { recursive: true, force: true });
}
