import { readdir, readFile, readlink } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import type { ConnectionEnds } from '../api/connection-guard.js';

export type { ConnectionEnds };

/** The host socket at the far end of a local connection. */
export interface LocalPeerSocket {
  readonly inode: string;
  readonly uid: number;
}

/** `::ffff:127.0.0.1` → `127.0.0.1`; IPv6 expanded to 8 groups; lower case. */
export function canonicalIp(address: string): string {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1]) return mapped[1];
  if (isIPv4(lower)) return lower;
  const [head = '', tail = ''] = lower.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = lower.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  const numbers = groups.map((g) => parseInt(g || '0', 16));
  // An IPv4-mapped address however it was written: the IPv4 address.
  if (numbers.length === 8 && numbers.slice(0, 5).every((n) => n === 0) && numbers[5] === 0xffff) {
    const [hi = 0, lo = 0] = numbers.slice(6);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return numbers.map((n) => n.toString(16)).join(':');
}

/** An address of /proc/net/tcp{,6}: hex, 32-bit words in host (little-endian) order. */
export function decodeProcAddress(hex: string): string {
  const [ip = '', port = '0'] = hex.split(':');
  const words = ip.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  const portNumber = parseInt(port, 16);
  if (bytes.length === 4) return `${bytes.join('.')}:${portNumber}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return `${canonicalIp(groups.join(':'))}:${portNumber}`;
}

/** One TCP socket table of the host (`tcp`: /proc/net/tcp, `tcp6`), as text; a missing one is empty. */
export async function readSocketTable(procRoot: string, table: 'tcp' | 'tcp6'): Promise<string> {
  return readFile(`${procRoot}/net/${table}`, 'utf8').catch(() => '');
}

/** The TCP socket tables of the host (/proc/net/tcp and tcp6), as text; a missing one is empty. */
export async function readSocketTables(procRoot = '/proc'): Promise<readonly string[]> {
  return Promise.all([readSocketTable(procRoot, 'tcp'), readSocketTable(procRoot, 'tcp6')]);
}

/**
 * The socket on this host that is the other end of `ends` — found in
 * /proc/net/tcp{,6} as the socket whose local end is our remote end and
 * whose remote end is our local end — or null when the peer is not local.
 */
export async function findLocalPeerSocket(ends: ConnectionEnds, procRoot = '/proc'): Promise<LocalPeerSocket | null> {
  return findPeerInTables(ends, await readSocketTables(procRoot));
}

/** findLocalPeerSocket on tables already read (readSocketTables). */
export function findPeerInTables(ends: ConnectionEnds, tables: readonly string[]): LocalPeerSocket | null {
  const peerLocal = `${canonicalIp(ends.remoteAddress)}:${ends.remotePort}`;
  const peerRemote = `${canonicalIp(ends.localAddress)}:${ends.localPort}`;
  // The peer's local field ends in its port, "…:PPPP " (4 upper-case hex digits): a
  // simple substring test skips every other line before any decoding (the tables
  // hold every socket of the host, hundreds while VMs and clients run).
  const portField = `:${ends.remotePort.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const text of tables) {
    for (let at = text.indexOf(portField); at !== -1; at = text.indexOf(portField, at + 1)) {
      const line = text.slice(text.lastIndexOf('\n', at) + 1, (text.indexOf('\n', at) + 1 || text.length + 1) - 1);
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[1] === undefined || f[2] === undefined) continue;
      if (decodeProcAddress(f[1]) === peerLocal && decodeProcAddress(f[2]) === peerRemote) {
        return { inode: f[9] ?? '', uid: Number(f[7]) };
      }
    }
  }
  return null;
}

/** Whether process `pid` holds socket `inode`: `yes`, `no`, or `unknown` when its descriptors cannot be read. */
export async function processHoldsSocket(pid: number, inode: string, procRoot = '/proc'): Promise<'yes' | 'no' | 'unknown'> {
  let fds: string[];
  try {
    fds = await readdir(`${procRoot}/${pid}/fd`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no' : 'unknown';
  }
  const wanted = `socket:[${inode}]`;
  // All links at once: one at a time costs a thread-pool round trip per descriptor.
  const links = await Promise.all(fds.map((fd) => readlink(`${procRoot}/${pid}/fd/${fd}`).catch(() => '')));
  return links.includes(wanted) ? 'yes' : 'no';
}
