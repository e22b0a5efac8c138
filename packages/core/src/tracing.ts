import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { ManagerTracing } from './api/observability.js';
import { coreSettings } from './config/core-settings.js';
import type { ManagerConfig } from './config/manager-config.js';

// Context propagation across awaits needs a process-wide context manager; set it once.
const CONTEXT_MANAGER_KEY = Symbol.for('cocos-manager:otel-context-manager');
function ensureContextManager(): void {
  const store = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (store[CONTEXT_MANAGER_KEY]) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  store[CONTEXT_MANAGER_KEY] = true;
}

const propagator = new W3CTraceContextPropagator();
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
 */
export class OtelTracing implements ManagerTracing {
  private readonly provider: BasicTracerProvider | null;
  private readonly ratio: number;
  readonly tracer: Tracer;

  constructor(config: ManagerConfig, instanceId: string, version: string) {
    ensureContextManager();
    const { ratio, url, exportDelay } = config.read(coreSettings).tracing;
    this.ratio = ratio;
    if (url === '') {
      this.provider = null;
      this.tracer = trace.getTracer('cocos-manager'); // no-op without a registered provider
      return;
    }
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'cocos-manager', 'service.version': version, 'service.instance.id': instanceId }),
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpTracesUrl(url), timeoutMillis: 5000 }), { scheduledDelayMillis: exportDelay })],
    });
    this.tracer = this.provider.getTracer('cocos-manager', version);
  }

  /**
   * Whether a call needs a span at all: not when nothing is exported, or
   * when sampling is off and the caller sent no trace to continue (a span
   * would be created and dropped, at a cost on hot paths).
   */
  wanted(callerSentTrace: boolean): boolean {
    return this.provider !== null && (this.ratio > 0 || callerSentTrace);
  }

  /** The caller's trace context from W3C headers / gRPC metadata (`traceparent`, `tracestate`). */
  extract(carrier: Record<string, unknown>): Context {
    return propagator.extract(ROOT_CONTEXT, carrier, getter);
  }

  /** Runs an API call in a server span that continues `parent`. */
  serve<T>(name: string, parent: Context, run: (span: Span) => Promise<T>): Promise<T> {
    return this.tracer.startActiveSpan(name, { kind: SpanKind.SERVER }, parent, (span) => this.finish(span, run));
  }

  /** Runs one lifecycle step in a child span of whatever is active. */
  step<T>(name: string, run: (span: Span) => Promise<T>, attributes: Record<string, string | number> = {}): Promise<T> {
    return this.tracer.startActiveSpan(name, { attributes }, (span) => this.finish(span, run));
  }

  /**
   * Flushes what is pending, but never holds a stopping manager for long: an
   * unreachable collector makes the exporter retry until its own timeout.
   */
  async shutdown(maxWaitMs = 1000): Promise<void> {
    if (!this.provider) return;
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
      timer.unref();
    });
    await Promise.race([this.provider.shutdown().catch(() => undefined), giveUp]);
    clearTimeout(timer);
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
