import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startManager, until, type CreatedVm, type RunningManager } from './harness.js';
import { freePort } from './free-port.js';

/**
 * A guest is a tenant, not an operator: through its user-mode network it
 * reaches the host's loopback as 10.0.2.2, and must not be able to drive the
 * manager there, whatever the configuration. The dev guest runs its probes
 * (cocos.probe=<grpc>,<http> on its kernel command line) and prints what it
 * got; the host makes the same requests and must succeed.
 */

/** What the HTTP/2 client preface gets back: a gRPC server answers with its SETTINGS frame. */
async function grpcPrefaceAnswer(port: number): Promise<number> {
  const socket = net.connect(port, '127.0.0.1');
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]));
  await new Promise((r) => setTimeout(r, 1000));
  socket.destroy();
  return bytes;
}

function probeResults(consoleLog: string): Record<string, string> {
  const results: Record<string, string> = {};
  for (const line of readFileSync(consoleLog, 'utf8').split('\n')) {
    const m = /dev-guest: probe (.+?): (.*)$/.exec(line.replace(/\r$/, ''));
    if (m?.[1] && m[2] !== undefined) results[m[1]] = m[2];
  }
  return results;
}

const TOKEN = 't'.repeat(48);
/** Each configuration with its own forwarded ports: the three run at once, one manager and guest each. */
const configurations: Array<[string, string, (base: string) => Record<string, string>]> = [
  // Empty means the default: both transports on localhost, REST writes off, no authentication.
  ['the default configuration', '6520-6522', () => ({ MANAGER_GRPC_HOST: '', MANAGER_HTTP_HOST: '', MANAGER_HTTP_REST_WRITES: '' })],
  ['REST writes enabled', '6523-6525', () => ({ MANAGER_HTTP_REST_WRITES: 'true' })],
  [
    'authentication enabled',
    '6526-6529',
    (base) => {
      const file = path.join(base, 'tokens');
      writeFileSync(file, `admin ops ${TOKEN}\n`);
      chmodSync(file, 0o600);
      return { MANAGER_AUTH_TOKENS_FILE: file };
    },
  ],
];

describe('guests never drive the API (real QEMU, the dev guest probing 10.0.2.2)', () => {
  const managers: RunningManager[] = [];
  afterAll(async () => {
    await Promise.all(managers.map((m) => m.dispose()));
  });

  // Three guests boot at once under TCG: slower each, a third of the time together.
  it.concurrent.each(configurations)('%s: the guest is refused on both ports, the host is not', { timeout: 420_000 }, async (_name, range, extra) => {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const { mkdtemp } = await import('node:fs/promises');
    const base = await mkdtemp(path.join((await import('node:os')).tmpdir(), 'cm-e2e-guest-'));
    const m = await startManager(
      range,
      {
        MANAGER_GRPC_PORT: String(grpcPort),
        MANAGER_HTTP_PORT: String(httpPort),
        MANAGER_QEMU_KERNEL_CMDLINE: `console=ttyS0 cocos.probe=${grpcPort},${httpPort}`,
        MANAGER_STOP_VMS_ON_EXIT: 'true',
        MANAGER_VM_POWERDOWN_TIMEOUT: '1s',
        ...extra(base),
      },
      base,
    );
    managers.push(m);
    const auth = extra(base)['MANAGER_AUTH_TOKENS_FILE'] !== undefined;
    const created = await m.call<CreatedVm>('CreateVm', {}, auth ? TOKEN : undefined);
    const vmDir = path.join(m.runDir, created.cvm_id);
    const consoleLog = path.join(vmDir, 'console.log');
    const sharesBefore = readdirSync(path.join(vmDir, 'env')).sort();
    await until(() => existsSync(consoleLog) && readFileSync(consoleLog, 'utf8').includes('dev-guest: probe done'), 360_000, 'the guest probes to finish');

    const guest = probeResults(consoleLog);
    // Every request from inside the guest: the connection is closed before any HTTP or gRPC byte.
    expect(guest['http GET /vms']).toBe('refused');
    expect(guest['http POST /vms']).toBe('refused');
    expect(guest[`http DELETE /vms/${created.cvm_id}`]).toBe('refused');
    expect(guest['grpc']).toBe('0 bytes answered');
    // The shares are read-only: nothing the guest writes reaches the host's directories.
    expect(guest['write /mnt/env']).toMatch(/^refused: .*Read-only file system/);
    expect(guest['write /etc/certs']).toMatch(/^refused: .*Read-only file system/);
    expect(readdirSync(path.join(vmDir, 'env')).sort()).toEqual(sharesBefore);
    expect(m.output()).toMatch(new RegExp(`refused a connection: the connection comes from VM ${created.cvm_id}`));

    // The VM is still there, and the host (no credentials over loopback, or the admin token) still drives the manager.
    const listed = await m.call<{ vms: Array<{ id: string }> }>('ListVms', {}, auth ? TOKEN : undefined);
    expect(listed.vms.map((v) => v.id)).toEqual([created.cvm_id]);
    expect(await grpcPrefaceAnswer(grpcPort)).toBeGreaterThan(0);
    const list = await fetch(`http://127.0.0.1:${httpPort}/vms`, auth ? { headers: { authorization: `Bearer ${TOKEN}` } } : {});
    expect(list.status).toBe(200);
    await m.call('RemoveVm', { cvm_id: created.cvm_id }, auth ? TOKEN : undefined);
  });
});
