import { Counter, Summary, type Registry } from 'prom-client';

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

export class UpstreamApiMetrics {
  private readonly count: Counter<'method'>;
  private readonly latency: Summary<'method'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.count = new Counter({ name: 'manager_api_request_count', help: 'Number of requests received.', labelNames: ['method'], registers });
    this.latency = new Summary({
      name: 'manager_api_request_latency_microseconds',
      help: 'Total duration of requests in microseconds.',
      labelNames: ['method'],
      percentiles: [],
      registers,
    });
  }

  observe(transport: string, method: string, seconds: number): void {
    this.observer(transport, method)?.(seconds);
  }

  /** A recorder for one of our calls, or null when the Go manager has no such method. */
  observer(transport: string, method: string): ((seconds: number) => void) | null {
    const upstream = transport === 'grpc' ? UPSTREAM_METHOD[method] : undefined;
    if (upstream === undefined) return null;
    const count = this.count.labels({ method: upstream });
    const latency = this.latency.labels({ method: upstream });
    return (seconds) => {
      count.inc();
      latency.observe(seconds);
    };
  }
}
