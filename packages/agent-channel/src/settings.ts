import { formats as f, setting } from '@cocos-manager/core';
import { FIRST_GUEST_CID, LAST_GUEST_CID } from './cid-pool.js';

/** How the manager and a VM's agent talk: not at all (the Go manager's argv), vsock, or virtio-serial ports. */
export const AGENT_CHANNEL_MODES = ['off', 'vsock', 'virtio-serial'] as const;
export type AgentChannelMode = (typeof AGENT_CHANNEL_MODES)[number];

/** The agent channel's settings (the seeds/002 manager's vsock ones keep upstream's names and defaults). */
export const agentChannelSettings = {
  agentChannel: {
    mode: setting({
      env: 'MANAGER_AGENT_CHANNEL',
      doc: "The channel to each VM's agent (manifest in, logs and events out): off (no device, the Go manager's argv), vsock (vhost-vsock-pci with a guest CID per VM; needs the host's vhost_vsock and socat) or virtio-serial (two ports on Unix sockets of the VM's directory; works under TCG).",
      default: 'off',
      format: f.oneOf(AGENT_CHANNEL_MODES),
    }),
    vsockId: setting({
      env: 'MANAGER_QEMU_VSOCK_ID',
      doc: 'Id of the vhost-vsock-pci device (one per VM, so the same id in every VM).',
      default: 'vhost-vsock-pci0',
      format: f.qemuId,
    }),
    firstGuestCid: setting({
      env: 'MANAGER_QEMU_VSOCK_GUEST_CID',
      doc: 'The lowest vsock CID given to a VM; each VM gets the lowest free CID from here up, kept until it is removed (also across manager restarts).',
      default: String(FIRST_GUEST_CID),
      format: f.integer(FIRST_GUEST_CID, LAST_GUEST_CID),
    }),
    socat: setting({
      env: 'MANAGER_AGENT_CHANNEL_SOCAT',
      doc: "The socat binary that bridges the agents' vsock connections to the manager's Unix sockets (vsock only).",
      default: 'socat',
      format: f.nonEmptyText,
    }),
  },
};
