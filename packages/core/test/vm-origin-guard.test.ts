import net from 'node:net';
import { once } from 'node:events';
import { execa } from 'execa';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { canonicalIp, decodeProcAddress, findLocalPeerSocket } from '../src/security/socket-owner.js';
import { isHostAddress, VmOriginGuard } from '../src/security/vm-origin-guard.js';
import { networkInterfaces } from 'node:os';

const silent = pino({ level: 'silent' });
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A server on `host` that hands out its accepted sockets. */
async function server(host: string) {
  const accepted: net.Socket[] = [];
  const waiting: Array<(s: net.Socket) => void> = [];
  const srv = net.createServer((s) => {
    s.on('error', () => undefined); // the resets these tests make
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
      const guard = new VmOriginGuard({ list: () => [{ id: 'vm-1', pid: child.pid as number }] }, silent);
      expect(await guard.check(ends(fromChild))).toEqual({
        allowed: false,
        cause: 'vm-origin',
        vmId: 'vm-1',
        reason: `the connection comes from VM vm-1 (QEMU pid ${child.pid})`,
      });
      expect(await guard.check(ends(fromUs))).toEqual({ allowed: true });
    });
  }

  it('allows a live local peer when no VM runs, and a peer that is not local', async () => {
    const srv = await server('127.0.0.1');
    const own = net.connect(srv.port, '127.0.0.1');
    cleanups.push(() => own.destroy());
    const fromUs = await srv.next();
    const guard = new VmOriginGuard({ list: () => [] }, silent);
    expect(await guard.check(ends(fromUs))).toEqual({ allowed: true });
    const withVm = new VmOriginGuard({ list: () => [{ id: 'vm-1', pid: process.pid }] }, silent);
    expect(await withVm.check({ remoteAddress: '192.0.2.7', remotePort: 40000, localAddress: '127.0.0.1', localPort: 7001 })).toEqual({ allowed: true });
  });

  it('fails closed: a local peer that is not there (no such socket, or no address at all) is refused', async () => {
    const guard = new VmOriginGuard({ list: () => [] }, silent);
    expect(await guard.check({ remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2 })).toMatchObject({
      allowed: false,
      cause: 'peer-unverified',
      vmId: null,
    });
    expect(await guard.check({ remoteAddress: '', remotePort: 0, localAddress: '', localPort: 0 })).toMatchObject({ allowed: false, cause: 'peer-unverified' });
  });

  for (const withVm of [false, true]) {
    it(`a client that connects, writes and resets before the check is refused (${withVm ? 'a VM running' : 'no VM'})`, async () => {
      // What a guest does to slip past: its whole request is in our buffer, its socket gone.
      const srv = await server('127.0.0.1');
      const client = net.connect(srv.port, '127.0.0.1');
      client.on('error', () => undefined);
      const accepted = await srv.next();
      const at = ends(accepted);
      client.write('POST /vms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}');
      await new Promise((r) => setTimeout(r, 20));
      client.resetAndDestroy();
      await once(client, 'close');
      await new Promise((r) => setTimeout(r, 20));
      const child = connectFromChild('127.0.0.1', srv.port);
      const guard = new VmOriginGuard({ list: () => (withVm ? [{ id: 'vm-1', pid: child.pid as number }] : []) }, silent);
      const verdict = await guard.check(at);
      expect(verdict).toMatchObject({ allowed: false, cause: 'peer-unverified', vmId: null });
      expect(verdict.allowed === false && verdict.reason).toMatch(/cannot be verified: its peer socket is (gone|orphaned)/);
      accepted.destroy();
    });
  }

  it('refuses a peer whose socket closes while its holders are read (the re-check after the scan)', async () => {
    const srv = await server('127.0.0.1');
    const client = net.connect(srv.port, '127.0.0.1');
    client.on('error', () => undefined);
    const accepted = await srv.next();
    // The VM list is read after the peer was found: the client resets right then,
    // so the socket was there at the first look and is gone at the second.
    const guard = new VmOriginGuard(
      {
        list: () => {
          client.resetAndDestroy();
          return [{ id: 'vm-1', pid: 999_999_999 }];
        },
      },
      silent,
    );
    const verdict = await guard.check(ends(accepted));
    expect(verdict).toMatchObject({ allowed: false, cause: 'peer-unverified', vmId: null });
    expect(verdict.allowed === false && verdict.reason).toMatch(/closed while its holders were checked/);
    accepted.destroy();
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
