import {
  AGENT_MESSAGES,
  CONFIG,
  inject,
  injectable,
  LOGGER,
  ManagerError,
  type AgentChannel,
  type AgentMessageSink,
  type DeviceAssignment,
  type Logger,
  type ManagerConfig,
  type QemuCommand,
  type VmContext,
  type VmDevice,
} from '@cocos-manager/core';
import { VhostVsockPci } from './agent-elements.js';
import type { ChannelAssignment } from './channel-assignment.js';
import { virtioSerialElements } from './channel-layout.js';
import { CidPool, FIRST_GUEST_CID, LAST_GUEST_CID } from './cid-pool.js';
import { agentChannelSettings } from './settings.js';
import { agentSocketDir, checkSocketPaths } from './socket-paths.js';
import { AgentChannels } from './agent-channels.js';
import { VsockBridgeProcess } from './vsock-bridge-process.js';

/** The device's name: the `device` of its assignments in VM state records. */
export const AGENT_CHANNEL_DEVICE = 'agent-channel';

export type { ChannelAssignment } from './channel-assignment.js';

/**
 * The agent channel as a VM device: per VM, the QEMU elements that give the
 * guest its channel, and for vsock the resource it holds, its guest CID
 * (lowest free from MANAGER_QEMU_VSOCK_GUEST_CID, 3). The assignment records
 * the transport with the VM, so a restarted manager reclaims a re-adopted
 * VM's CID (and knows how to reach its agent) even if MANAGER_AGENT_CHANNEL
 * changed meanwhile. With MANAGER_AGENT_CHANNEL=off (the default) VMs get
 * nothing and the argv is the Go manager's.
 */
@injectable()
export class AgentChannelDevice implements VmDevice, AgentChannel {
  readonly name = AGENT_CHANNEL_DEVICE;
  readonly cids: CidPool;
  /** The running VMs' channels (what their agents say goes to core). */
  readonly channels: AgentChannels;
  private readonly bridge: VsockBridgeProcess;

  constructor(
    @inject(CONFIG) private readonly config: ManagerConfig,
    @inject(LOGGER) private readonly logger: Logger,
    @inject(AGENT_MESSAGES) sink: AgentMessageSink,
  ) {
    const { firstGuestCid, socat } = this.settings();
    this.cids = new CidPool(firstGuestCid);
    const socketDir = agentSocketDir(config);
    this.channels = new AgentChannels({ sink, logger, socketDir, socat });
    this.bridge = new VsockBridgeProcess({ socat, socketDir }, logger);
  }

  get enabled(): boolean {
    return this.settings().mode !== 'off';
  }

  validate(): Promise<void> {
    const { mode, socat } = this.settings();
    checkSocketPaths(this.config, mode, socat);
    if (mode !== 'off') this.logger.info({ mode }, 'agent channel on');
    return Promise.resolve();
  }

  acquire(vm: VmContext): Promise<DeviceAssignment | null> {
    switch (this.settings().mode) {
      case 'off':
        return Promise.resolve(null);
      case 'vsock':
        return Promise.resolve(this.assignment({ transport: 'vsock', cid: this.cids.take(vm.id) }));
      case 'virtio-serial':
        return Promise.resolve(this.assignment({ transport: 'virtio-serial' }));
    }
  }

  preview(): DeviceAssignment | null {
    switch (this.settings().mode) {
      case 'off':
        return null;
      case 'vsock':
        return this.assignment({ transport: 'vsock', cid: this.cids.next() });
      case 'virtio-serial':
        return this.assignment({ transport: 'virtio-serial' });
    }
  }

  contribute(command: QemuCommand, vm: VmContext, assignment: DeviceAssignment): void {
    const channel = this.channelOf(assignment);
    if (channel.transport === 'vsock') command.add(new VhostVsockPci(this.settings().vsockId, channel.cid));
    else command.add(...virtioSerialElements(vm));
  }

  running(vm: VmContext, assignment: DeviceAssignment): void {
    const channel = this.channelOf(assignment);
    if (channel.transport === 'vsock') this.bridge.ensure().catch((err: unknown) => this.logger.error({ err }, 'the vsock bridge could not be started'));
    this.channels.start(vm, channel);
  }

  release(vm: VmContext, assignment: DeviceAssignment): void {
    this.channels.stop(vm.id);
    const channel = this.channelOf(assignment);
    if (channel.transport !== 'vsock') return;
    this.cids.release(channel.cid, vm.id);
    // The last vsock VM gone: no agent can connect, the bridge is not needed until the next one.
    if (this.channels.vsockChannels === 0) this.bridge.stop();
  }

  deliverManifest(vmId: string, manifest: Uint8Array): Promise<void> {
    return this.channels.deliverManifest(vmId, manifest);
  }

  reclaim(vm: VmContext, assignment: DeviceAssignment): void {
    const channel = this.channelOf(assignment);
    if (channel.transport !== 'vsock') return;
    const other = this.cids.claim(channel.cid, vm.id);
    if (other) this.logger.warn({ vm: vm.id, cid: channel.cid, other }, 'two re-adopted VMs record the same guest CID');
  }

  /** The VM that holds a vsock CID: the one a vsock peer of that CID is (the kernel says the CID, never the guest's bytes). */
  vmOfCid(cid: number): string | undefined {
    return this.cids.holder(cid);
  }

  /** A VM's channel as its assignment records it. Throws STATE_RECORD_INVALID on one this device never wrote. */
  channelOf(assignment: DeviceAssignment): ChannelAssignment {
    const { transport, cid } = assignment.values;
    if (transport === 'virtio-serial') return { transport };
    if (transport === 'vsock' && cid !== undefined && /^[1-9][0-9]{0,9}$/.test(cid)) {
      const n = Number(cid);
      if (n >= FIRST_GUEST_CID && n <= LAST_GUEST_CID) return { transport, cid: n };
    }
    throw new ManagerError(
      'STATE_RECORD_INVALID',
      `an ${this.name} assignment that is neither virtio-serial nor vsock with a guest CID: ${JSON.stringify(assignment.values)}`,
    );
  }

  private assignment(channel: ChannelAssignment): DeviceAssignment {
    return { device: this.name, values: channel.transport === 'vsock' ? { transport: 'vsock', cid: String(channel.cid) } : { transport: channel.transport } };
  }

  private settings() {
    return this.config.read(agentChannelSettings).agentChannel;
  }
}
