import { Counter, type Registry } from 'prom-client';

/**
 * The Go manager's own API metrics, so dashboards built for it keep working:
 * `manager_api_request_count{method}` and the summary
 * `manager_api_request_latency_microseconds{method}` (which, as upstream's,
 * observes seconds despite its name, with no quantiles), for the four
 * upstream RPCs under upstream's method names. Only the gRPC API counts: it is
 * the one the Go manager serves.
 */
const UPSTREAM_METHOD: Readonly<Record<string, string>> = {
  CreateVm: 'Run',
  RemoveVm: 'Stop',
  AttestationPolicy: 'FetchAttestationPolicy',
  CVMInfo: 'ReturnCVMInfo',
};

interface SumCount {
  sum: number;
  count: number;
}

/**
 * A Prometheus summary with no quantiles: only `_sum` and `_count`. prom-client's
 * Summary feeds every observation into a t-digest even when no quantile is
 * exported; that was a measurable part of each gRPC call's cost (BENCHMARKS.md, #4).
 */
class QuantilelessSummary {
  readonly type = 'summary';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, SumCount>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series of one `method` label value. */
  labels(method: string): SumCount {
    let s = this.series.get(method);
    if (!s) this.series.set(method, (s = { sum: 0, count: 0 }));
    return s;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: { metricName: string; labels: { method: string }; value: number }[] } {
    // As prom-client's own metrics: a series appears once it has been observed.
    const observed = [...this.series].filter(([, s]) => s.count > 0);
    const values = observed.flatMap(([method, s]) => [
      { metricName: `${this.name}_sum`, labels: { method }, value: s.sum },
      { metricName: `${this.name}_count`, labels: { method }, value: s.count },
    ]);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.series.clear();
  }
}

export class UpstreamApiMetrics {
  private readonly count: Counter<'method'>;
  private readonly latency: QuantilelessSummary;

  constructor(registry: Registry) {
    this.count = new Counter({ name: 'manager_api_request_count', help: 'Number of requests received.', labelNames: ['method'], registers: [registry] });
    this.latency = new QuantilelessSummary('manager_api_request_latency_microseconds', 'Total duration of requests in microseconds.', registry);
  }

  observe(transport: string, method: string, seconds: number): void {
    this.observer(transport, method)?.(seconds);
  }

  /** A recorder for one of our calls, or null when the Go manager has no such method. */
  observer(transport: string, method: string): ((seconds: number) => void) | null {
    const upstream = transport === 'grpc' ? UPSTREAM_METHOD[method] : undefined;
    if (upstream === undefined) return null;
    const count = this.count.labels({ method: upstream });
    const latency = this.latency.labels(upstream);
    return (seconds) => {
      count.inc();
      latency.sum += seconds;
      latency.count += 1;
    };
  }
}
