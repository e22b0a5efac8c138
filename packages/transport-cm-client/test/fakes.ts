import { pino, type Logger } from 'pino';
import {
  ManagerError,
  VmState,
  type AgentChannel,
  type AgentMessageEvent,
  type AgentRecord,
  type ConfigSlice,
  type CreateVmRequest,
  type CvmInfo,
  type VmEvent,
} from '@cocos-manager/core';
import { loadManagerConfig } from '@cocos-manager/core/internal';
import type { CmStub } from '@cocos-manager/testing';
import { CmClientTransport, cmClientSettings, type CmClientDeps, type CmLimits, type CmVmApi } from '../src/index.js';

export const quiet = pino({ level: 'silent' });

/** A logger that keeps its lines (JSON objects), for tests that read what was logged. */
export function memoryLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** A VM service that creates nothing: VMs are ids and ports, events are emitted by the test. */
export class FakeVms implements CmVmApi {
  readonly created: CreateVmRequest[] = [];
  readonly removed: string[] = [];
  readonly vms = new Map<string, number>();
  private next = 0;
  private readonly agentListeners = new Set<(e: AgentMessageEvent) => void>();
  private readonly eventListeners = new Set<(e: VmEvent) => void>();
  /** Make the next create fail with this. */
  failCreate: Error | null = null;
  /** Holds creates until released (a VM that takes its time). */
  gate: Promise<void> = Promise.resolve();

  async create(request: CreateVmRequest) {
    this.created.push(request);
    await this.gate;
    if (this.failCreate) throw this.failCreate;
    const id = `vm-${++this.next}`;
    const forwardedPort = 6100 + this.next;
    this.vms.set(id, forwardedPort);
    return { id, forwardedPort };
  }

  async remove(id: string) {
    this.removed.push(id);
    if (!this.vms.delete(id)) throw new ManagerError('VM_NOT_FOUND', `no VM ${id}`);
    this.lifecycle(id, VmState.Stopped);
    return Promise.resolve();
  }

  cvmInfo(id: string): CvmInfo {
    if (!this.vms.has(id)) throw new ManagerError('VM_NOT_FOUND', `no VM ${id}`);
    return { id, ovmfVersion: 'edk2-test', cpuNum: 2, cpuType: 'EPYC', kernelCmd: 'quiet console=null', eosVersion: 'eos-1' };
  }

  attestationPolicy(id: string): Promise<Uint8Array> {
    if (!this.vms.has(id)) return Promise.reject(new ManagerError('VM_NOT_FOUND', `no VM ${id}`));
    return Promise.resolve(new Uint8Array(Buffer.from(`policy of ${id}`)));
  }

  onAgent(listener: (e: AgentMessageEvent) => void) {
    this.agentListeners.add(listener);
    return () => void this.agentListeners.delete(listener);
  }

  onEvent(listener: (e: VmEvent) => void) {
    this.eventListeners.add(listener);
    return () => void this.eventListeners.delete(listener);
  }

  /** What VM `vmId`'s agent says. */
  agent(vmId: string, message: AgentRecord): void {
    const event: AgentMessageEvent = { kind: 'agent', vmId, at: new Date().toISOString(), message };
    for (const l of this.agentListeners) l(event);
  }

  lifecycle(vmId: string, state: VmState): void {
    const event: VmEvent = { kind: 'lifecycle', vmId, state, previous: null, at: new Date().toISOString(), detail: 'test' };
    for (const l of this.eventListeners) l(event);
  }
}

/** An agent channel that records manifests (or fails them). */
export class FakeChannel implements AgentChannel {
  readonly manifests: Array<{ vmId: string; manifest: Record<string, unknown> }> = [];
  enabled = true;
  fail: Error | null = null;

  deliverManifest(vmId: string, manifest: Uint8Array): Promise<void> {
    if (this.fail) return Promise.reject(this.fail);
    this.manifests.push({ vmId, manifest: JSON.parse(Buffer.from(manifest).toString('utf8')) as Record<string, unknown> });
    return Promise.resolve();
  }
}

export interface ObservedCall {
  readonly transport: string;
  readonly method: string;
  readonly code: string;
}

/** A configuration of the client's slice (and any `others`, standing in for other plugins) from `env`. */
export function clientConfig(env: Record<string, string>, others: ConfigSlice[] = []) {
  return loadManagerConfig(
    [{ owner: '@cocos-manager/transport-cm-client', slice: cmClientSettings }, ...others.map((slice, i) => ({ owner: `other-${i}`, slice }))],
    env,
  );
}

/** A started client against `stub`, with fast reconnects unless `env` says otherwise. */
export async function startClient(
  stub: Pick<CmStub, 'url'>,
  options: {
    env?: Record<string, string>;
    vms?: FakeVms;
    channel?: AgentChannel | null;
    limits?: Partial<CmLimits>;
    others?: ConfigSlice[];
    logger?: Logger;
  } = {},
) {
  const vms = options.vms ?? new FakeVms();
  const channel = options.channel === undefined ? new FakeChannel() : options.channel;
  const calls: ObservedCall[] = [];
  const deps: CmClientDeps = {
    config: clientConfig(
      {
        MANAGER_CM_CLIENT_ENABLE: 'true',
        MANAGER_GRPC_URL: stub.url,
        MANAGER_CM_RECONNECT_MIN_DELAY: '50ms',
        MANAGER_CM_RECONNECT_MAX_DELAY: '500ms',
        ...options.env,
      },
      options.others,
    ),
    logger: options.logger ?? quiet,
    vms,
    metrics: { observeCall: (transport, method, code) => void calls.push({ transport, method, code }) },
    channel,
    ...(options.limits ? { limits: options.limits } : {}),
  };
  const client = new CmClientTransport(deps);
  await client.start();
  return { client, vms, channel: channel as FakeChannel | null, calls };
}

/** Waits for `condition` (generous deadline: the outcome never depends on speed). */
export async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An agent_event's details as JSON. */
export const detailsOf = (event: { details: Buffer }) => JSON.parse(event.details.toString('utf8')) as Record<string, unknown>;
