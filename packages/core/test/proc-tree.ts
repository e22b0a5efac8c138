import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One connection to the manager as /proc/net/tcp shows its peer's socket. */
export interface PeerLine {
  readonly port: number;
  readonly uid: number;
  readonly inode: string;
}

/** The manager's end of every connection in a ProcTree (127.0.0.1:SERVER_PORT). */
export const SERVER_PORT = 7001;

const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');

/**
 * A stand-in /proc for the connection guard (its `procRoot`): processes with
 * a status (uids, parent) and descriptors (symlinks to `socket:[inode]`, as
 * the kernel shows them), and a net/tcp listing the peers of connections to
 * 127.0.0.1:SERVER_PORT. Every change is on disk at once, as on a host.
 */
export function procTree() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cocos-proc-'));
  mkdirSync(path.join(root, 'net'));
  const peers = new Map<string, PeerLine>();
  const nextFd = new Map<number, number>();
  const writeTables = () => {
    const lines = [...peers.values()].map(
      (p, i) =>
        `  ${i}: 0100007F:${hex(p.port, 4)} 0100007F:${hex(SERVER_PORT, 4)} 01 00000000:00000000 00:00000000 00000000  ${p.uid}        0 ${p.inode} 1 0000000000000000 20 4 30 10 -1`,
    );
    writeFileSync(
      path.join(root, 'net/tcp'),
      ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode', ...lines, ''].join('\n'),
    );
  };
  writeTables();
  const tree = {
    root,
    /** A process with uids (real, effective, saved, fs all `uid`), its parent and a few non-socket descriptors. */
    process(pid: number, options: { uid: number; ppid?: number }) {
      const dir = path.join(root, String(pid));
      mkdirSync(path.join(dir, 'fd'), { recursive: true });
      const u = options.uid;
      writeFileSync(
        path.join(dir, 'status'),
        `Name:\tqemu-system-x86\nPid:\t${pid}\nPPid:\t${options.ppid ?? 1}\nUid:\t${u}\t${u}\t${u}\t${u}\nGid:\t0\t0\t0\t0\n`,
      );
      for (const target of ['/dev/null', 'anon_inode:[eventfd]', 'pipe:[900001]']) tree.fd(pid, target);
      return tree;
    },
    /** A new descriptor of `pid` pointing at `target`; its number. */
    fd(pid: number, target: string): number {
      const n = nextFd.get(pid) ?? 0;
      nextFd.set(pid, n + 1);
      symlinkSync(target, path.join(root, String(pid), 'fd', String(n)));
      return n;
    },
    /** `pid` opens a socket connected to the manager: its descriptor and the peer line in net/tcp. Returns the connection's ends. */
    connect(pid: number, peer: PeerLine) {
      const fd = tree.fd(pid, `socket:[${peer.inode}]`);
      peers.set(peer.inode, peer);
      writeTables();
      return { remoteAddress: '127.0.0.1', remotePort: peer.port, localAddress: '127.0.0.1', localPort: SERVER_PORT, fd };
    },
    /** Its status can no longer be read (a process of another kind, or one being torn down). */
    hideStatus(pid: number) {
      unlinkSync(path.join(root, String(pid), 'status'));
      return tree;
    },
    /** The process exits: its directory is gone, its sockets too. */
    exit(pid: number) {
      rmSync(path.join(root, String(pid)), { recursive: true, force: true });
    },
    /** Closes descriptor `fd` of `pid`. */
    close(pid: number, fd: number) {
      unlinkSync(path.join(root, String(pid), 'fd', String(fd)));
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  return tree;
}
