import path from 'node:path';
import { ConfigError, coreSettings, resolveRunDir, type ManagerConfig } from '@cocos-manager/core';
import { VIRTIO_SERIAL } from './channel-layout.js';
import { LAST_GUEST_CID } from './cid-pool.js';
import type { AgentChannelMode } from './settings.js';
import { cidSocketPath, socatBinary, socatSafe, VSOCK_BRIDGE_SCRIPT } from './vsock-bridge.js';

// sun_path is 108 bytes including the terminating NUL.
const MAX_UNIX_SOCKET_PATH = 107;
/** A VM id as core makes them (a UUID): the longest VM directory name. */
const VM_ID_LENGTH = 36;

/** The manager's directory of the vsock channel's per-CID sockets (`cid-<N>.sock`), under MANAGER_RUN_DIR. */
export function agentSocketDir(config: ManagerConfig): string {
  return path.join(resolveRunDir(config.read(coreSettings).manager.runDir), 'agent-channel');
}

/** The longest socket path `mode` will use under this configuration. */
function longestSocketPath(config: ManagerConfig, mode: Exclude<AgentChannelMode, 'off'>): string {
  if (mode === 'vsock') return cidSocketPath(agentSocketDir(config), LAST_GUEST_CID);
  const vmDir = path.join(resolveRunDir(config.read(coreSettings).manager.runDir), 'x'.repeat(VM_ID_LENGTH));
  const paths = [VIRTIO_SERIAL.manifest.socket, VIRTIO_SERIAL.events.socket].map((name) => path.join(vmDir, name));
  return paths.reduce((a, b) => (Buffer.byteLength(a) >= Buffer.byteLength(b) ? a : b));
}

/**
 * Start-up checks of the channel's Unix sockets: every path fits a
 * sockaddr_un, and for vsock the socket directory is one socat can be given.
 * Throws a ConfigError naming MANAGER_RUN_DIR, so a bad directory stops
 * start-up instead of failing each create.
 */
export function checkSocketPaths(config: ManagerConfig, mode: AgentChannelMode, socat: string): void {
  if (mode === 'off') return;
  const longest = longestSocketPath(config, mode);
  const bytes = Buffer.byteLength(longest);
  if (bytes > MAX_UNIX_SOCKET_PATH) {
    throw new ConfigError(
      `MANAGER_RUN_DIR: MANAGER_AGENT_CHANNEL=${mode} needs Unix sockets such as ${longest}, ${bytes} bytes; at most ${MAX_UNIX_SOCKET_PATH} are allowed (use a shorter MANAGER_RUN_DIR)`,
    );
  }
  if (mode !== 'vsock') return;
  socatBinary(socat);
  socatSafe('MANAGER_RUN_DIR (its agent-channel directory)', agentSocketDir(config));
  socatSafe('the vsock bridge script (where the package is installed)', VSOCK_BRIDGE_SCRIPT);
}
