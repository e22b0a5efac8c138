import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@cocos-manager/core';
import { VSOCK_PORTS } from './channel-layout.js';

/**
 * The relay of one agent connection (shipped in bin/): run by socat per
 * accepted vsock connection, it connects it to `cid-<peer CID>.sock` of the
 * socket directory, the CID taken from socat's SOCAT_PEERADDR.
 */
export const VSOCK_BRIDGE_SCRIPT = fileURLToPath(new URL('../bin/agent-vsock-bridge.sh', import.meta.url));

/** Concurrent agent connections the bridge relays (socat's max-children), over every VM. */
export const DEFAULT_BRIDGE_MAX_CHILDREN = 256;

/** The socket a VM's agent connections arrive on, for the VM holding `cid`. */
export function cidSocketPath(socketDir: string, cid: number): string {
  return path.join(socketDir, `cid-${cid}.sock`);
}

/**
 * socat splits its addresses on `:` `,` `!!`, quotes and brackets, and EXEC's
 * command line on spaces: the paths handed to it are kept to characters none
 * of that touches.
 */
const SOCAT_SAFE_PATH = /^\/[A-Za-z0-9._+/-]*$/;

export function socatSafe(what: string, value: string): string {
  if (!SOCAT_SAFE_PATH.test(value) || value.includes('/../') || value.endsWith('/..')) {
    throw new ConfigError(`${what} "${value}": the vsock bridge needs an absolute path of letters, digits and . _ + - / only`);
  }
  return value;
}

/** MANAGER_AGENT_CHANNEL_SOCAT, checked: a safe absolute path or a bare program name (found on PATH). */
export function socatBinary(socat: string): string {
  if (socat.includes('/')) return socatSafe('MANAGER_AGENT_CHANNEL_SOCAT', socat);
  if (!/^[A-Za-z0-9._+-]+$/.test(socat)) throw new ConfigError(`MANAGER_AGENT_CHANNEL_SOCAT "${socat}" is neither a safe absolute path nor a program name`);
  return socat;
}

export interface VsockBridgeOptions {
  /** The socat binary (MANAGER_AGENT_CHANNEL_SOCAT), absolute or found on PATH. */
  readonly socat: string;
  /** The 0700 directory of the per-CID sockets (under the manager's run directory). */
  readonly socketDir: string;
  /** The host vsock port agents send logs and events to (9997). */
  readonly port?: number;
  readonly maxChildren?: number;
  /** The relay script (bin/agent-vsock-bridge.sh of this package). */
  readonly script?: string;
}

/**
 * The argv of the one socat a manager runs for the vsock channel (Node has no
 * AF_VSOCK): it listens on the host's vsock port and, per accepted
 * connection, forks a child that execs the relay script on the connection
 * itself (`nofork`), with SOCAT_PEERADDR set to the peer's CID.
 *
 *   socat VSOCK-LISTEN:9997,fork,reuseaddr,max-children=256 \
 *     EXEC:"/…/agent-vsock-bridge.sh <socketDir> <socat>",nofork
 *
 * The manager therefore learns which VM spoke from the socket the
 * connection arrives on — `cid-<CID>.sock`, listened on only while a VM holds
 * that CID — never from the message.
 */
export function vsockBridgeArgv(options: VsockBridgeOptions): string[] {
  const port = options.port ?? VSOCK_PORTS.events;
  const maxChildren = options.maxChildren ?? DEFAULT_BRIDGE_MAX_CHILDREN;
  if (!Number.isInteger(port) || port < 1 || port > 0xffff_fffe) throw new ConfigError(`vsock port ${port} is not within 1-4294967294`);
  if (!Number.isInteger(maxChildren) || maxChildren < 1) throw new ConfigError(`the vsock bridge's max-children ${maxChildren} is not a positive integer`);
  const socat = socatBinary(options.socat);
  const script = socatSafe('the vsock bridge script', options.script ?? VSOCK_BRIDGE_SCRIPT);
  const dir = socatSafe('the agent channel socket directory', options.socketDir);
  return [socat, `VSOCK-LISTEN:${port},fork,reuseaddr,max-children=${maxChildren}`, `EXEC:${script} ${dir} ${socat},nofork`];
}

/**
 * The argv that writes a VM's manifest to its agent (vsock port 9999, the
 * agent listening): stdin to the guest, one way, then closed. The manager
 * runs it once per manifest with the VM's own CID.
 */
export function vsockManifestArgv(socat: string, cid: number, port: number = VSOCK_PORTS.manifest): string[] {
  if (!Number.isInteger(cid) || cid < 3 || cid > 0xffff_fffe) throw new ConfigError(`guest CID ${cid} is not within 3-4294967294`);
  return [socatBinary(socat), '-u', 'STDIN', `VSOCK-CONNECT:${cid}:${port}`];
}
