import { execa } from 'execa';
import { ManagerError, type AgentMessageSink, type Logger, type VmContext } from '@cocos-manager/core';
import type { ChannelAssignment } from './channel-assignment.js';
import { agentRecordOf } from './agent-record.js';
import { AgentSocketConnector } from './agent-socket-connector.js';
import { AgentSocketListener } from './agent-socket-listener.js';
import { VIRTIO_SERIAL } from './channel-layout.js';
import { ChannelCounters } from './channel-counters.js';
import type { ConnectionHandlers } from './agent-connection.js';
import { deliverManifest } from './manifest-delivery.js';
import { cidSocketPath, vsockManifestArgv } from './vsock-bridge.js';

/** How long a manifest may wait for the agent to take it (the guest still booting). */
export const MANIFEST_TIMEOUT_MS = 120_000;

interface OpenChannel {
  readonly vm: VmContext;
  readonly channel: ChannelAssignment;
  readonly end: AgentSocketConnector | AgentSocketListener;
}

export interface ChannelsOptions {
  readonly sink: AgentMessageSink;
  readonly logger: Logger;
  /** The per-CID sockets' directory (vsock) and the socat binary. */
  readonly socketDir: string;
  readonly socat: string;
  readonly manifestTimeoutMs?: number;
}

/**
 * The agent channels of the running VMs: per VM the manager's end of its
 * events port — a connector to the VM's own virtio-serial socket, or the
 * listener of its `cid-<CID>.sock` the vsock bridge relays to — whose checked
 * messages go to core (AGENT_MESSAGES) under that VM's id, and the way to
 * hand its agent a manifest.
 */
export class AgentChannels {
  readonly counters = new ChannelCounters();
  private readonly open = new Map<string, OpenChannel>();

  constructor(private readonly options: ChannelsOptions) {}

  /** Channels open now. */
  get size(): number {
    return this.open.size;
  }

  /** vsock channels open now (the bridge is needed while there is one). */
  get vsockChannels(): number {
    let n = 0;
    for (const { channel } of this.open.values()) if (channel.transport === 'vsock') n++;
    return n;
  }

  /** Starts talking to `vm`'s agent (its QEMU runs). Again for the same VM: the old end is closed first. */
  start(vm: VmContext, channel: ChannelAssignment): void {
    this.stop(vm.id);
    const { sink, logger } = this.options;
    const log = logger.child({ vm: vm.id, channel: channel.transport });
    const handlers: ConnectionHandlers = {
      onMessage: (message) => sink.publish(vm.id, agentRecordOf(message)),
      onRejected: (rejected) => sink.rejected(vm.id, rejected.rejectReason, rejected.fatal),
    };
    const options = { counters: this.counters, logger: log };
    let end: AgentSocketConnector | AgentSocketListener;
    if (channel.transport === 'virtio-serial') {
      const connector = new AgentSocketConnector(vm.file(VIRTIO_SERIAL.events.socket), vm.id, handlers, options);
      connector.start();
      end = connector;
    } else {
      const listener = new AgentSocketListener(cidSocketPath(this.options.socketDir, channel.cid), vm.id, handlers, options);
      listener.listen().catch((err: unknown) => log.error({ err }, 'the agent channel socket of the VM could not be listened on'));
      end = listener;
    }
    this.open.set(vm.id, { vm, channel, end });
  }

  /** Stops talking to the VM's agent (it is gone); nothing for a VM without a channel. */
  stop(vmId: string): void {
    const open = this.open.get(vmId);
    if (!open) return;
    this.open.delete(vmId);
    if (open.end instanceof AgentSocketConnector) open.end.stop();
    else open.end.close().catch((err: unknown) => this.options.logger.warn({ err, vm: vmId }, 'closing the agent channel socket failed'));
  }

  /** Hands `manifest` to the VM's agent: its manifest port (virtio-serial) or vsock port 9999 through socat. */
  async deliverManifest(vmId: string, manifest: Uint8Array): Promise<void> {
    const open = this.open.get(vmId);
    if (!open) throw new ManagerError('VM_NOT_FOUND', `no running VM with id "${vmId}" has an agent channel`);
    const timeoutMs = this.options.manifestTimeoutMs ?? MANIFEST_TIMEOUT_MS;
    if (open.channel.transport === 'virtio-serial') return deliverManifest(open.vm.file(VIRTIO_SERIAL.manifest.socket), manifest, { timeoutMs });
    const [file, ...args] = vsockManifestArgv(this.options.socat, open.channel.cid);
    const result = await execa(file as string, args, {
      input: Buffer.from(manifest),
      reject: false,
      timeout: timeoutMs,
      stdout: 'ignore',
      stderr: 'pipe',
      maxBuffer: 64 * 1024,
    });
    if (result.exitCode !== 0) {
      throw new ManagerError('AGENT_CHANNEL_UNREACHABLE', `the agent of VM ${vmId} (vsock CID ${open.channel.cid}) did not take its manifest`, {
        cause: new Error(String(result.stderr ?? '').slice(-500)),
      });
    }
  }
}
