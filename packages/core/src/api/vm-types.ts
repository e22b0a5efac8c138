import type { AgentMessageEvent } from './agent-messages.js';
import type { DeviceAssignment } from './device-assignment.js';

/** Lifecycle states of a VM (README: Lifecycle and supervision). */
export const VmState = {
  /** A VM an earlier manager left running, shown while this one re-adopts it after a restart (never persisted). */
  Adopting: 'adopting',
  Provisioning: 'provisioning',
  Starting: 'starting',
  Running: 'running',
  Stopping: 'stopping',
  Stopped: 'stopped',
  Failed: 'failed',
} as const;
export type VmState = (typeof VmState)[keyof typeof VmState];

/** What a client asks for (the fields of the wire CreateReq, in our spelling). */
export interface CreateVmRequest {
  readonly agentLogLevel: string;
  readonly agentCvmServerCaCert: Uint8Array;
  readonly agentCvmClientKey: Uint8Array;
  readonly agentCvmClientCert: Uint8Array;
  readonly agentCvmServerUrl: string;
  readonly agentCvmCaUrl: string;
  /** Go duration syntax; empty for no TTL. */
  readonly ttl: string;
  readonly agentCertsToken: string;
  readonly awsAccessKeyId: string;
  readonly awsSecretAccessKey: string;
  readonly awsEndpointUrl: string;
  readonly awsRegion: string;
  readonly aaKbsParams: string;
}

export function emptyCreateVmRequest(overrides: Partial<CreateVmRequest> = {}): CreateVmRequest {
  return {
    agentLogLevel: '',
    agentCvmServerCaCert: new Uint8Array(),
    agentCvmClientKey: new Uint8Array(),
    agentCvmClientCert: new Uint8Array(),
    agentCvmServerUrl: '',
    agentCvmCaUrl: '',
    ttl: '',
    agentCertsToken: '',
    awsAccessKeyId: '',
    awsSecretAccessKey: '',
    awsEndpointUrl: '',
    awsRegion: '',
    aaKbsParams: '',
    ...overrides,
  };
}

export interface CreatedVm {
  readonly id: string;
  readonly forwardedPort: number;
}

/** Why a VM's QEMU ended. */
export interface VmExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly reason: string;
}

/** A point-in-time view of one VM, as list/get return it. No secrets. */
export interface VmSummary {
  readonly id: string;
  readonly state: VmState;
  readonly forwardedPort: number;
  readonly pid: number | null;
  readonly backend: string;
  readonly boot: string;
  readonly createdAt: string;
  /** Absolute TTL deadline (ISO 8601), when the VM has one. */
  readonly ttlDeadline: string | null;
  readonly exit: VmExit | null;
  /** The guest's run state as QMP last reported it (`running`, `paused`, `guest-panicked`…). */
  readonly guestStatus: string | null;
  /** True when this manager re-adopted the VM from an earlier one. */
  readonly adopted: boolean;
  /** What VM devices (passed-through PCI devices…) gave the VM, while it holds them (absent: none). */
  readonly devices?: readonly DeviceAssignment[];
  /**
   * Why the VM's latest state is not on disk (the state disk is full…) while
   * the manager retries the write; null (or absent) when its record is saved.
   */
  readonly stateWriteError?: string | null;
}

/** What CVMInfo answers (wire CVMInfoRes). */
export interface CvmInfo {
  readonly id: string;
  readonly ovmfVersion: string;
  readonly cpuNum: number;
  readonly cpuType: string;
  readonly kernelCmd: string;
  readonly eosVersion: string;
}

/** A lifecycle change, emitted as it happens. */
export interface VmEvent {
  readonly kind: 'lifecycle';
  readonly vmId: string;
  readonly state: VmState;
  readonly previous: VmState | null;
  readonly at: string;
  readonly detail: string;
}

/** One line of a VM's serial console (or QEMU's own output). */
export interface ConsoleLine {
  readonly kind: 'console';
  readonly vmId: string;
  /** At most MAX_CONSOLE_LINE characters (plus the cut mark): a longer line arrives in pieces. */
  readonly line: string;
  readonly at: string;
  /** A piece of a longer line that goes on in the next piece (its text ends with the cut mark). */
  readonly cut?: true;
}

export type VmStreamEvent = VmEvent | ConsoleLine | AgentMessageEvent;

/** One page of ListVms: its VMs, the token of the next page ('' after the last), and how many VMs there are in all. */
export interface VmPage {
  readonly vms: VmSummary[];
  readonly nextPageToken: string;
  readonly total: number;
}
