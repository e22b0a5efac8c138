import type { Logger } from '@cocos-manager/core';
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { CmClientOptions } from './client-options.js';
import type { ComputationRequests } from './computation-requests.js';
import type { CmLimits } from './limits.js';
import type { Outbox, StreamSink } from './outbox.js';
import { ProcessStream, type StreamOutcome } from './process-stream.js';
import { RunAssembler } from './run-assembler.js';
import type { RunProvisioner } from './run-provisioner.js';
import { ServerMessages } from './server-messages.js';

export interface SessionDeps {
  readonly options: CmClientOptions;
  readonly creds: ChannelCredentials;
  readonly outbox: Outbox;
  readonly runs: Pick<RunProvisioner, 'run' | 'refuse'>;
  readonly requests: Pick<ComputationRequests, 'stop' | 'svmInfo' | 'attestationPolicy'>;
  readonly logger: Logger;
  readonly limits: CmLimits;
  readonly observe: (member: string, code: string, seconds: number) => void;
  /** The stream is open (the dial worked). */
  readonly onOpen: () => void;
  readonly now?: () => number;
}

/** How a session ended: its stream's outcome, and the terminate message when Computation Management sent one. */
export interface SessionOutcome extends StreamOutcome {
  readonly terminated: string | null;
}

/**
 * One connection's worth of work: a Process stream, the reassembly of the
 * run requests chunked on it (partial runs do not outlive their stream: a
 * reconnect starts them over), the idle sweep, and the outbox attached while
 * the stream is open.
 */
export class StreamSession {
  private readonly stream: ProcessStream;
  private readonly assembler: RunAssembler;
  private terminated: string | null = null;
  private sink: StreamSink | null = null;

  constructor(private readonly deps: SessionDeps) {
    this.assembler = new RunAssembler(deps.limits, deps.now);
    const messages = new ServerMessages({
      assembler: this.assembler,
      runs: deps.runs,
      requests: deps.requests,
      logger: deps.logger,
      limits: deps.limits,
      observe: deps.observe,
      onTerminate: (message) => {
        this.terminated = message;
        deps.logger.warn({ message }, 'Computation Management sent terminateReq: closing the stream (VMs keep running)');
        this.stream.end('terminateReq');
      },
    });
    this.stream = new ProcessStream(deps.options, deps.creds, {
      onOpen: (opened) => {
        this.sink = opened;
        deps.outbox.attach(opened);
        deps.onOpen();
      },
      onMessage: (message) => messages.handle(message),
    });
  }

  /** Ends the stream now (the manager is stopping). */
  end(reason: string): void {
    this.stream.end(reason);
  }

  async run(): Promise<SessionOutcome> {
    const sweepEvery = Math.max(10, Math.min(1000, Math.floor(this.deps.limits.partialIdleMs / 3)));
    const sweeper = setInterval(() => this.sweep(), sweepEvery);
    sweeper.unref();
    try {
      const outcome = await this.stream.run();
      return { ...outcome, terminated: this.terminated };
    } finally {
      clearInterval(sweeper);
      if (this.sink) this.deps.outbox.detach(this.sink);
      for (const id of this.assembler.clear()) this.deps.runs.refuse(id, 'the stream ended before the last chunk of the run request; send it again');
    }
  }

  private sweep(): void {
    const ms = this.deps.limits.partialIdleMs;
    const idle = ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
    for (const id of this.assembler.sweep()) this.deps.runs.refuse(id, `no chunk of the run request for ${idle}: dropped`);
  }
}
