import net from 'node:net';
import { once } from 'node:events';
import { execa } from 'execa';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { VmOriginGuard } from '../src/security/vm-origin-guard.js';
import { procTree } from './proc-tree.js';

/**
 * What the guard remembers between connections (QEMUs' uids, the processes
 * that held clients' sockets lately) never lets a connection in that a fresh
 * look would refuse: issue 24's cache, checked on a stand-in /proc whose
 * processes and sockets change between connections, and on the real one.
 */
const silent = pino({ level: 'silent' });
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function world() {
  const tree = procTree();
  cleanups.push(tree.remove);
  const vms: Array<{ id: string; pid: number }> = [];
  const guard = new VmOriginGuard({ list: () => vms }, silent, tree.root);
  return { tree, vms, guard };
}

describe('VmOriginGuard: what it remembers stays correct (stand-in /proc)', () => {
  it('a connection a QEMU opens after the caches were filled is still refused', async () => {
    const { tree, vms, guard } = world();
    tree.process(500, { uid: 1000 }).process(600, { uid: 1000 });
    vms.push({ id: 'vm-a', pid: 500 });
    // A client's connection fills both caches: the QEMU's uid, and the client as a recent holder.
    expect(await guard.check(tree.connect(600, { port: 40001, uid: 1000, inode: '111' }))).toEqual({ allowed: true });
    expect(guard.qemuUids.size).toBe(1);
    expect(guard.holders.remembered).toBe(1);
    // Then the guest connects: its QEMU opens a socket no cache has seen.
    const fromGuest = tree.connect(500, { port: 40002, uid: 1000, inode: '222' });
    expect(await guard.check(fromGuest)).toEqual({
      allowed: false,
      cause: 'vm-origin',
      vmId: 'vm-a',
      reason: 'the connection comes from VM vm-a (QEMU pid 500)',
    });
    // And again, once more (nothing of the first refusal lets the second through).
    expect(await guard.check(tree.connect(500, { port: 40003, uid: 1000, inode: '223' }))).toMatchObject({ allowed: false, vmId: 'vm-a' });
    // The client is still served, its new socket read afresh.
    expect(await guard.check(tree.connect(600, { port: 40004, uid: 1000, inode: '333' }))).toEqual({ allowed: true });
  });

  it('a process remembered as a client is refused once it is a VM’s QEMU (a reused pid)', async () => {
    const { tree, vms, guard } = world();
    tree.process(500, { uid: 1000 }).process(600, { uid: 1000 });
    vms.push({ id: 'vm-a', pid: 500 });
    expect(await guard.check(tree.connect(600, { port: 40001, uid: 1000, inode: '111' }))).toEqual({ allowed: true });
    // Pid 600 exits; a new VM's QEMU gets the same pid and its guest connects.
    tree.exit(600);
    tree.process(600, { uid: 1000 });
    vms.push({ id: 'vm-b', pid: 600 });
    expect(await guard.check(tree.connect(600, { port: 40002, uid: 1000, inode: '444' }))).toMatchObject({ allowed: false, cause: 'vm-origin', vmId: 'vm-b' });
  });

  it("a removed VM's entries are gone: its uid is forgotten and its process no longer counts as a QEMU", async () => {
    const { tree, vms, guard } = world();
    tree.process(500, { uid: 1000 }).process(501, { uid: 1000 }).process(600, { uid: 1000 });
    vms.push({ id: 'vm-a', pid: 500 }, { id: 'vm-b', pid: 501 });
    expect(await guard.check(tree.connect(600, { port: 40001, uid: 1000, inode: '111' }))).toEqual({ allowed: true });
    expect(guard.qemuUids.size).toBe(2);
    const fromB = tree.connect(501, { port: 40002, uid: 1000, inode: '222' });
    expect(await guard.check(fromB)).toMatchObject({ allowed: false, vmId: 'vm-b' });
    expect(guard.offenders.map((o) => o.id)).toEqual(['vm-b']);
    vms.splice(1, 1); // vm-b removed (its process, say, left running by an operator)
    expect(await guard.check(fromB)).toEqual({ allowed: true });
    expect(guard.qemuUids.size).toBe(1);
    expect(guard.offenders).toEqual([]);
    vms.splice(0, 1);
    expect(await guard.check(tree.connect(600, { port: 40003, uid: 1000, inode: '112' }))).toEqual({ allowed: true });
    expect(await guard.check(tree.connect(500, { port: 40004, uid: 1000, inode: '113' }))).toEqual({ allowed: true });
  });

  it('a new VM on a reused pid has its uid read again (the cache is by VM and pid)', async () => {
    const { tree, vms, guard } = world();
    tree.process(500, { uid: 2000 }).process(600, { uid: 1000 });
    vms.push({ id: 'vm-a', pid: 500 });
    // QEMU runs as 2000: a peer socket of uid 1000 cannot be its, nothing else is read.
    expect(await guard.check(tree.connect(600, { port: 40001, uid: 1000, inode: '111' }))).toEqual({ allowed: true });
    expect(guard.holders.remembered).toBe(0);
    vms.splice(0, 1);
    tree.exit(500);
    tree.process(500, { uid: 1000 });
    vms.push({ id: 'vm-c', pid: 500 });
    expect(await guard.check(tree.connect(500, { port: 40002, uid: 1000, inode: '555' }))).toMatchObject({ allowed: false, vmId: 'vm-c' });
  });

  it("a socket held by a QEMU's child is the VM's; a QEMU whose status cannot be read is suspected of every socket", async () => {
    const { tree, vms, guard } = world();
    tree.process(500, { uid: 1000 }).process(700, { uid: 1000, ppid: 500 });
    vms.push({ id: 'vm-a', pid: 500 });
    expect(await guard.check(tree.connect(700, { port: 40001, uid: 1000, inode: '111' }))).toMatchObject({
      allowed: false,
      cause: 'vm-origin',
      vmId: 'vm-a',
      reason: 'the connection comes from VM vm-a (pid 700, a child of QEMU pid 500)',
    });
    // A VM whose QEMU shows no status: its uid is unknown, so its descriptors are read, and they hold the socket.
    tree.process(801, { uid: 1000 }).hideStatus(801);
    vms.push({ id: 'vm-e', pid: 801 });
    expect(await guard.check(tree.connect(801, { port: 40002, uid: 1000, inode: '333' }))).toMatchObject({ allowed: false, vmId: 'vm-e' });
    expect(guard.qemuUids.size).toBe(1); // vm-a's; vm-e's unknown uid is not remembered
  });

  it('a recent holder that closed its socket vouches for nothing: the QEMU that holds the next one is found', async () => {
    const { tree, vms, guard } = world();
    tree.process(500, { uid: 1000 }).process(600, { uid: 1000 });
    vms.push({ id: 'vm-a', pid: 500 });
    const first = tree.connect(600, { port: 40001, uid: 1000, inode: '111' });
    expect(await guard.check(first)).toEqual({ allowed: true });
    tree.close(600, first.fd);
    expect(await guard.check(tree.connect(500, { port: 40002, uid: 1000, inode: '222' }))).toMatchObject({ allowed: false, vmId: 'vm-a' });
  });
});

describe('VmOriginGuard: what it remembers stays correct (real sockets, real /proc)', () => {
  it("refuses every connection of a VM's process, before and after this process's own were served", async () => {
    const accepted: net.Socket[] = [];
    const waiting: Array<(s: net.Socket) => void> = [];
    const srv = net.createServer((s) => {
      s.on('error', () => undefined);
      const w = waiting.shift();
      if (w) w(s);
      else accepted.push(s);
    });
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    cleanups.push(() => srv.close());
    const port = (srv.address() as net.AddressInfo).port;
    const next = () => new Promise<net.Socket>((resolve) => (accepted.length ? resolve(accepted.shift() as net.Socket) : waiting.push(resolve)));
    const ends = (s: net.Socket) => ({
      remoteAddress: s.remoteAddress ?? '',
      remotePort: s.remotePort ?? 0,
      localAddress: s.localAddress ?? '',
      localPort: s.localPort ?? 0,
    });
    // The "VM": a child that opens a connection each time it reads a line.
    const child = execa(process.execPath, ['-e', `process.stdin.on('data', () => require('net').connect(${port}, '127.0.0.1')); setInterval(() => {}, 1000)`], {
      reject: false,
      stdin: 'pipe',
    });
    cleanups.push(() => child.kill('SIGKILL'));
    const guard = new VmOriginGuard({ list: () => [{ id: 'vm-1', pid: child.pid as number }] }, silent);
    const own = () => {
      const c = net.connect(port, '127.0.0.1');
      cleanups.push(() => c.destroy());
      return next();
    };
    const fromChild = () => {
      child.stdin?.write('x\n');
      return next();
    };
    expect(await guard.check(ends(await own()))).toEqual({ allowed: true });
    expect(await guard.check(ends(await fromChild()))).toMatchObject({ allowed: false, cause: 'vm-origin', vmId: 'vm-1' });
    expect(await guard.check(ends(await own()))).toEqual({ allowed: true });
    expect(guard.holders.remembered).toBe(1);
    expect(await guard.check(ends(await fromChild()))).toMatchObject({ allowed: false, cause: 'vm-origin', vmId: 'vm-1' });
    expect(await guard.check(ends(await own()))).toEqual({ allowed: true });
  });
});
