import type { Context, Span, Tracer } from '@opentelemetry/api';

/** The manager's metrics as the transports record and serve them (METRICS token). */
export interface ManagerMetrics {
  /** One API call: by transport, method and status code, with its latency. */
  observeCall(transport: string, method: string, code: string, seconds: number): void;
  /** observeCall for a fixed transport, method and code, with label lookups done once (hot paths). */
  callObserver(transport: string, method: string, code: string): (seconds: number) => void;
  observeCreate(seconds: number, ok: boolean): void;
  /** A connection closed before any handler saw it: from one of our VMs (`vm-origin`), from a local peer that could not be identified (`peer-unverified`), over a cap (`connection-limit`), … */
  observeRefusedConnection(transport: string, reason: string): void;
  /** A stream client cut off because it read too slowly (its backlog passed the bound): `events`, `console`, `WatchEvents`. */
  observeDroppedStream(transport: string, stream: string): void;
  /** The exposition format's content type and text, for `/metrics`. */
  contentType(): string;
  text(): Promise<string>;
}

/** Tracing of API calls and lifecycle steps (TRACING token). */
export interface ManagerTracing {
  readonly tracer: Tracer;
  /** Whether a call needs a span at all (nothing exported, or unsampled without a caller's trace: no). */
  wanted(callerSentTrace: boolean): boolean;
  /** The caller's trace context from W3C headers / gRPC metadata. */
  extract(carrier: Record<string, unknown>): Context;
  /** Runs an API call in a server span that continues `parent`. */
  serve<T>(name: string, parent: Context, run: (span: Span) => Promise<T>): Promise<T>;
  /** Runs one lifecycle step in a child span of whatever is active. */
  step<T>(name: string, run: (span: Span) => Promise<T>, attributes?: Record<string, string | number>): Promise<T>;
  /** Flushes pending spans, bounded. */
  shutdown(maxWaitMs?: number): Promise<void>;
}

/** Who this manager is, for health endpoints. */
export interface ManagerInfo {
  readonly instanceId: string;
  readonly version: string;
  /** The source commit and build time of this build, or `na` when unknown (as the Go manager reports them). */
  readonly commit: string;
  readonly buildTime: string;
  readonly startedAt: string;
}
