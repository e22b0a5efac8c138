import { context, INVALID_SPAN_CONTEXT, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import type { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { ManagerTracing } from './api/observability.js';
import { coreSettings } from './config/core-settings.js';
import type { ManagerConfig } from './config/manager-config.js';

// Context propagation across awaits needs a process-wide context manager; set it
// once, and only when spans are recorded: on Node 20 it runs an async hook on
// every promise of the process, a cost on every call for nothing when no span is kept.
const CONTEXT_MANAGER_KEY = Symbol.for('cocos-manager:otel-context-manager');
async function ensureContextManager(): Promise<void> {
  const store = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (store[CONTEXT_MANAGER_KEY]) return;
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  if (store[CONTEXT_MANAGER_KEY]) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  store[CONTEXT_MANAGER_KEY] = true;
}

/** A span that records nothing: what an unsampled call runs in. */
const NON_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

let propagatorInstance: W3CTraceContextPropagator | null = null;
/** The W3C propagator, loaded (synchronously, its CommonJS build) at the first caller that sends a trace. */
function propagator(): W3CTraceContextPropagator {
  if (!propagatorInstance) {
    const core = createRequire(import.meta.url)('@opentelemetry/core') as typeof import('@opentelemetry/core');
    propagatorInstance = new core.W3CTraceContextPropagator();
  }
  return propagatorInstance;
}
const getter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key] ?? carrier[key.toLowerCase()];
    return Array.isArray(value) ? value.map(String) : value === undefined ? undefined : String(value);
  },
};

/** `<COCOS_JAEGER_URL>/v1/traces`, unless the URL already names a path. */
export function otlpTracesUrl(base: string): string {
  const url = new URL(base);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url.toString();
}

/**
 * OpenTelemetry tracing of one manager: spans for API calls (continuing the
 * caller's W3C trace context) and lifecycle steps, sampled at
 * COCOS_JAEGER_TRACE_RATIO and exported over OTLP/HTTP to COCOS_JAEGER_URL.
 * An unreachable collector costs dropped spans, never log noise (the SDK
 * reports export failures through its diag logger, which stays silent).
 *
 * The SDK and the OTLP exporter are loaded only when a span can be kept:
 * at start when a URL is set and the ratio is above 0, otherwise on the
 * first call that continues a caller's trace. Until then calls run in a
 * non-recording span and the process does not carry those libraries.
 */
export class OtelTracing implements ManagerTracing {
  private provider: BasicTracerProvider | null = null;
  private loading: Promise<Tracer> | null = null;
  private current: Tracer = trace.getTracer('cocos-manager'); // no-op until the SDK is loaded
  private readonly ratio: number;
  private readonly load: (() => Promise<Tracer>) | null;

  constructor(config: ManagerConfig, instanceId: string, version: string) {
    const { ratio, url, exportDelay } = config.read(coreSettings).tracing;
    this.ratio = ratio;
    this.load =
      url === ''
        ? null
        : async () => {
            const [{ OTLPTraceExporter }, { resourceFromAttributes }, sdk] = await Promise.all([
              import('@opentelemetry/exporter-trace-otlp-http'),
              import('@opentelemetry/resources'),
              import('@opentelemetry/sdk-trace-base'),
              ensureContextManager(),
            ]);
            this.provider = new sdk.BasicTracerProvider({
              resource: resourceFromAttributes({ 'service.name': 'cocos-manager', 'service.version': version, 'service.instance.id': instanceId }),
              sampler: new sdk.ParentBasedSampler({ root: new sdk.TraceIdRatioBasedSampler(ratio) }),
              spanProcessors: [
                new sdk.BatchSpanProcessor(new OTLPTraceExporter({ url: otlpTracesUrl(url), timeoutMillis: 5000 }), { scheduledDelayMillis: exportDelay }),
              ],
            });
            this.current = this.provider.getTracer('cocos-manager', version);
            return this.current;
          };
    // Sampling on: every call may be kept, so the SDK is wanted from the start.
    if (ratio > 0) void this.ready().catch(() => undefined);
  }

  /** The tracer spans are made with (a no-op one until the SDK is loaded). */
  get tracer(): Tracer {
    return this.current;
  }

  /**
   * Whether a call needs a span at all: not when nothing is exported, or
   * when sampling is off and the caller sent no trace to continue (a span
   * would be created and dropped, at a cost on hot paths).
   */
  wanted(callerSentTrace: boolean): boolean {
    return this.load !== null && (this.ratio > 0 || callerSentTrace);
  }

  /** The caller's trace context from W3C headers / gRPC metadata (`traceparent`, `tracestate`). */
  extract(carrier: Record<string, unknown>): Context {
    // No traceparent, nothing to continue (tracestate alone is ignored by the W3C rules too).
    if (getter.get(carrier, 'traceparent') === undefined) return ROOT_CONTEXT;
    return propagator().extract(ROOT_CONTEXT, carrier, getter);
  }

  /** Runs an API call in a server span that continues `parent`. */
  async serve<T>(name: string, parent: Context, run: (span: Span) => Promise<T>): Promise<T> {
    if (!this.wanted(trace.getSpanContext(parent) !== undefined)) return run(NON_RECORDING);
    const tracer = await this.ready();
    return tracer.startActiveSpan(name, { kind: SpanKind.SERVER }, parent, (span) => this.finish(span, run));
  }

  /** Runs one lifecycle step in a child span of whatever is active. */
  async step<T>(name: string, run: (span: Span) => Promise<T>, attributes: Record<string, string | number> = {}): Promise<T> {
    // Without a loaded SDK no call span is active and the ratio is 0: the step would not be sampled.
    if (this.loading === null) return run(NON_RECORDING);
    const tracer = await this.loading;
    return tracer.startActiveSpan(name, { attributes }, (span) => this.finish(span, run));
  }

  /**
   * Flushes what is pending, but never holds a stopping manager for long: an
   * unreachable collector makes the exporter retry until its own timeout.
   */
  async shutdown(maxWaitMs = 1000): Promise<void> {
    await this.loading?.catch(() => undefined);
    if (!this.provider) return;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
      timer.unref();
    });
    await Promise.race([this.provider.shutdown().catch(() => undefined), giveUp]);
    clearTimeout(timer);
  }

  private ready(): Promise<Tracer> {
    if (this.load === null) return Promise.resolve(this.current);
    this.loading ??= this.load();
    return this.loading;
  }

  private async finish<T>(span: Span, run: (span: Span) => Promise<T>): Promise<T> {
    try {
      return await run(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  }
}
