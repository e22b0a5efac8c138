import net from 'node:net';
import { once } from 'node:events';
import { execa } from 'execa';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalIp, decodeProcAddress, findLocalPeerSocket } from '../src/security/socket-owner.js';
import { isHostAddress, VmOriginGuard } from '../src/security/vm-origin-guard.js';
import { networkInterfaces } from 'node:os';
import type { VmSummary } from '../src/vm/types.js';

const silent = pino({ level: 'silent' });
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A server on `host` that hands out its accepted sockets. */
async function server(host: string) {
  const accepted: net.Socket[] = [];
  const waiting: Array<(s: net.Socket) => void> = [];
  const srv = net.createServer((s) => {
    const w = waiting.shift();
    if (w) w(s);
    else accepted.push(s);
  });
  srv.listen(0, host);
  await once(srv, 'listening');
  cleanups.push(() => srv.close());
  return {
    port: (srv.address() as net.AddressInfo).port,
    next: () => new Promise<net.Socket>((resolve) => (accepted.length ? resolve(accepted.shift() as net.Socket) : waiting.push(resolve))),
  };
}

const ends = (s: net.Socket) => ({
  remoteAddress: s.remoteAddress ?? '',
  remotePort: s.remotePort ?? 0,
  localAddress: s.localAddress ?? '',
  localPort: s.localPort ?? 0,
});
const vm = (id: string, pid: number): VmSummary => ({
  id,
  pid,
  state: 'running',
  forwardedPort: 0,
  backend: 'x',
  boot: 'ram',
  createdAt: '',
  ttlDeadline: null,
  exit: null,
  guestStatus: null,
  adopted: false,
});

/** Another process (standing in for a VM's QEMU) holding a connection to `port`. */
function connectFromChild(host: string, port: number) {
  const child = execa(process.execPath, ['-e', `require('net').connect(${port}, ${JSON.stringify(host)}); setInterval(() => {}, 1000)`], { reject: false });
  cleanups.push(() => child.kill('SIGKILL'));
  return child;
}

describe('/proc/net addresses', () => {
  it('decodes IPv4 and IPv6 entries', () => {
    expect(decodeProcAddress('0100007F:1F41')).toBe('127.0.0.1:8001');
    expect(decodeProcAddress('00000000000000000000000001000000:0050')).toBe('0:0:0:0:0:0:0:1:80');
    expect(decodeProcAddress('0000000000000000FFFF00000100007F:0050')).toBe('127.0.0.1:80');
    expect(canonicalIp('::ffff:10.0.2.2')).toBe('10.0.2.2');
    expect(canonicalIp('::1')).toBe('0:0:0:0:0:0:0:1');
  });
});

describe('VmOriginGuard (real sockets, real /proc)', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`refuses a connection held by a VM's process, allows others (${host})`, async () => {
      const srv = await server(host);
      const child = connectFromChild(host, srv.port);
      const fromChild = await srv.next();
      const own = net.connect(srv.port, host);
      cleanups.push(() => own.destroy());
      const fromUs = await srv.next();

      expect(await findLocalPeerSocket(ends(fromChild))).toMatchObject({ uid: process.getuid?.() });
      const guard = new VmOriginGuard({ list: () => [vm('vm-1', child.pid as number)] }, silent);
      expect(await guard.check(ends(fromChild))).toEqual({ allowed: false, vmId: 'vm-1', reason: `the connection comes from VM vm-1 (QEMU pid ${child.pid})` });
      expect(await guard.check(ends(fromUs))).toEqual({ allowed: true });
    });
  }

  it('allows everything when no VM runs, and a peer that is not local', async () => {
    const guard = new VmOriginGuard({ list: () => [] }, silent);
    expect(await guard.check({ remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2 })).toEqual({ allowed: true });
    const withVm = new VmOriginGuard({ list: () => [vm('vm-1', process.pid)] }, silent);
    expect(await withVm.check({ remoteAddress: '192.0.2.7', remotePort: 40000, localAddress: '127.0.0.1', localPort: 7001 })).toEqual({ allowed: true });
  });

  it("tells this host's addresses from other machines' (the guard skips /proc for the latter)", () => {
    expect(isHostAddress('127.0.0.1')).toBe(true);
    expect(isHostAddress('::ffff:127.0.0.9')).toBe(true);
    expect(isHostAddress('::1')).toBe(true);
    expect(isHostAddress('192.0.2.7')).toBe(false);
    const own = Object.values(networkInterfaces())
      .flat()
      .find((e) => e && !e.internal);
    if (own) expect(isHostAddress(own.address)).toBe(true);
  });
});
