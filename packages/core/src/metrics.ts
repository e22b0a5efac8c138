import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { VmState } from './api/vm-types.js';
import type { ManagerMetrics } from './api/observability.js';
import type { VmApi } from './api/vm-api.js';
import { UpstreamApiMetrics } from './upstream-metrics.js';
import { agentMessageMetrics, type AgentCounts } from './agent-metrics.js';
import type { StateStore } from './vm/state/state-store.js';

/** How often the event-loop delay histogram (nodejs_eventloop_lag_*) samples. */
const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The manager's Prometheus metrics, shared by every transport: process
 * defaults, API calls by transport, method and status (count and latency, as
 * upstream's metrics middleware), VMs by state, create duration, port pool.
 */
export class PrometheusMetrics implements ManagerMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'transport' | 'method' | 'code'>;
  private readonly latency: Histogram<'transport' | 'method'>;
  private readonly createDuration: Histogram<'outcome'>;
  private readonly refusedConnections: Counter<'transport' | 'reason'>;
  private readonly droppedStreams: Counter<'transport' | 'stream'>;
  private readonly upstream: UpstreamApiMetrics;

  constructor(service: Pick<VmApi, 'list' | 'portUsage' | 'onConsole'>, maxVms: number, state?: Pick<StateStore, 'writeFailures'>, agents?: AgentCounts) {
    const registers = [this.registry];
    this.upstream = new UpstreamApiMetrics(this.registry);
    // prom-client's event-loop delay histogram samples every 10 ms by default: a timer that woke an idle
    // manager 100 times a second (~1 % of a core doing nothing). Every 100 ms still records any stall
    // longer than that, and a shorter one in proportion to its length.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    // prom-client also exports these gauges under a counter-style "_total" name, which
    // Prometheus' naming rules (promtool check metrics) refuse; their twins without
    // the suffix carry the same values.
    for (const metric of this.registry.getMetricsAsArray()) {
      if (metric.name.endsWith('_total') && String(metric.type) !== 'counter') this.registry.removeSingleMetric(metric.name);
    }
    this.requests = new Counter({
      name: 'manager_api_requests_total',
      help: 'API calls handled, by transport, method and status code.',
      labelNames: ['transport', 'method', 'code'],
      registers,
    });
    this.latency = new Histogram({
      name: 'manager_api_request_duration_seconds',
      help: 'API call latency, by transport and method.',
      labelNames: ['transport', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.createDuration = new Histogram({
      name: 'manager_vm_create_duration_seconds',
      help: 'Time to create a VM (until QEMU answers on QMP), by outcome.',
      labelNames: ['outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.refusedConnections = new Counter({
      name: 'manager_connections_refused_total',
      help: 'Connections closed before any request was read, by transport and reason (vm-origin, peer-unverified, connection-limit, guard-error, header-timeout).',
      labelNames: ['transport', 'reason'],
      registers,
    });
    this.droppedStreams = new Counter({
      name: 'manager_stream_clients_dropped_total',
      help: 'Stream clients cut off because their unread backlog passed the bound, by transport and stream.',
      labelNames: ['transport', 'stream'],
      registers,
    });
    const cutLines = new Counter({
      name: 'manager_console_lines_cut_total',
      help: 'Console line pieces handed out cut because a guest wrote a line longer than the bound (16 KiB).',
      registers,
    });
    service.onConsole((line) => {
      if (line.cut) cutLines.inc();
    });
    if (agents) agentMessageMetrics(this.registry, agents);
    new Gauge({
      name: 'manager_vms',
      help: 'VMs known to the manager, by lifecycle state.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(Object.values(VmState).map((s) => [s, 0]));
        for (const vm of service.list()) counts.set(vm.state, (counts.get(vm.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    if (state) {
      new Counter({
        name: 'manager_state_write_failures_total',
        help: 'VM state record writes that failed (reason disk-full: ENOSPC/EDQUOT, or other); a create fails on one, a running VM retries it.',
        labelNames: ['reason'],
        registers,
        collect() {
          this.reset();
          for (const [reason, n] of state.writeFailures()) this.inc({ reason }, n);
        },
      });
    }
    new Gauge({
      name: 'manager_vms_state_unsaved',
      help: 'VMs whose latest state is not on disk (its writes fail; the manager retries them and GetVm shows why).',
      registers,
      collect() {
        this.set(service.list().filter((vm) => (vm.stateWriteError ?? null) !== null).length);
      },
    });
    new Gauge({
      name: 'manager_port_pool_in_use',
      help: 'Host ports of MANAGER_QEMU_HOST_FWD_RANGE held by VMs.',
      registers,
      collect() {
        this.set(service.portUsage().inUse);
      },
    });
    new Gauge({ name: 'manager_vm_slots_max', help: 'VMs that may run at once (MANAGER_MAX_VMS): failed and stopped VMs take no slot.', registers }).set(
      maxVms,
    );
    new Gauge({
      name: 'manager_port_pool_size',
      help: 'Host ports in MANAGER_QEMU_HOST_FWD_RANGE.',
      registers,
      collect() {
        this.set(service.portUsage().size);
      },
    });
  }

  observeCall(transport: string, method: string, code: string, seconds: number): void {
    this.requests.inc({ transport, method, code });
    this.latency.observe({ transport, method }, seconds);
    this.upstream.observe(transport, method, seconds);
  }

  /** The same as observeCall for a fixed transport, method and code, with the label lookups done once. */
  callObserver(transport: string, method: string, code: string): (seconds: number) => void {
    const count = this.requests.labels({ transport, method, code });
    const latency = this.latency.labels({ transport, method });
    const upstream = this.upstream.observer(transport, method);
    return (seconds) => {
      count.inc();
      latency.observe(seconds);
      upstream?.(seconds);
    };
  }

  observeCreate(seconds: number, ok: boolean): void {
    this.createDuration.observe({ outcome: ok ? 'created' : 'failed' }, seconds);
  }

  observeRefusedConnection(transport: string, reason: string): void {
    this.refusedConnections.inc({ transport, reason });
  }

  observeDroppedStream(transport: string, stream: string): void {
    this.droppedStreams.inc({ transport, stream });
  }

  contentType(): string {
    return this.registry.contentType;
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
