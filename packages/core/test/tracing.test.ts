import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { coreSettings, type ManagerConfig } from '../src/index.js';
import { loadManagerConfig, OtelTracing } from '../src/internal.js';

const tracing = (env: Record<string, string>) =>
  new OtelTracing(loadManagerConfig([{ owner: '@cocos-manager/core', slice: coreSettings }], env), 'instance', '0.0.0');
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

// The SDK is loaded lazily (idle memory, per-call cost); these are the cases where it must still record.
describe('OtelTracing loads the SDK only when a span can be kept', () => {
  it('ratio 0: no span for a call without a trace; a caller’s sampled trace is continued', async () => {
    const t = tracing({ COCOS_JAEGER_URL: 'http://127.0.0.1:9', COCOS_JAEGER_TRACE_RATIO: '0' });
    expect(t.wanted(false)).toBe(false);
    expect(t.wanted(true)).toBe(true);
    const untraced = await t.serve('call', t.extract({}), async (span) => span.isRecording());
    expect(untraced).toBe(false);
    const continued = await t.serve('call', t.extract({ traceparent: TRACEPARENT }), async (span) => ({
      recording: span.isRecording(),
      traceId: span.spanContext().traceId,
      active: trace.getActiveSpan() === span,
    }));
    expect(continued).toEqual({ recording: true, traceId: '0af7651916cd43dd8448eb211c80319c', active: true });
    await t.shutdown(100);
  });

  it('no URL: nothing is recorded, whatever the caller sends', async () => {
    // An empty variable counts as unset (the default URL), so the slice is given directly.
    const noUrl = { read: () => ({ tracing: { url: '', ratio: 1, exportDelay: 1000 } }) } as unknown as ManagerConfig;
    const t = new OtelTracing(noUrl, 'instance', '0.0.0');
    expect(t.wanted(true)).toBe(false);
    expect(await t.serve('call', t.extract({ traceparent: TRACEPARENT }), async (span) => span.isRecording())).toBe(false);
    expect(await t.step('step', async (span) => span.isRecording())).toBe(false);
  });

  it('ratio above 0: calls and the lifecycle steps under them are recorded', async () => {
    const t = tracing({ COCOS_JAEGER_URL: 'http://127.0.0.1:9', COCOS_JAEGER_TRACE_RATIO: '1' });
    const inner = await t.serve('call', t.extract({}), async () => t.step('step', async (span) => span.isRecording()));
    expect(inner).toBe(true);
    await t.shutdown(100);
  });
});
