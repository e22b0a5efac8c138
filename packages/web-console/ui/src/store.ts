import { useEffect, useState } from 'preact/hooks';
import { getJson, quietAbort, streamEvents, type LifecycleEvent, type WireVm } from './api.js';

export const STATES = ['adopting', 'provisioning', 'starting', 'running', 'stopping', 'stopped', 'failed'] as const;

/** Counts of VMs by state at one moment (the chart's series). */
export interface StateSample {
  readonly at: number;
  readonly counts: Readonly<Record<string, number>>;
}

const SAMPLE_MS = 2000;
const MAX_SAMPLES = 900;
const RESYNC_MS = 10_000;

/**
 * The VMs the manager knows, kept live: the list once, then the lifecycle
 * events (a VM seen for the first time is fetched; the list is read again
 * after a stop, since removal forgets a VM), plus a slow resync as a safety net.
 */
class VmStore {
  vms: ReadonlyMap<string, WireVm> = new Map();
  readonly timelines = new Map<string, LifecycleEvent[]>();
  readonly samples: StateSample[] = [];
  connected = false;
  error = '';
  private readonly listeners = new Set<() => void>();
  private started = false;

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.resyncQuietly();
    this.follow();
    setInterval(() => this.resyncQuietly(), RESYNC_MS);
    setInterval(() => this.sample(), SAMPLE_MS);
  }

  async resync(): Promise<void> {
    try {
      const { vms } = await getJson<{ vms: WireVm[] }>('/vms');
      this.vms = new Map(vms.map((vm) => [vm.id, vm]));
      this.error = '';
      if (this.samples.length === 0) this.sample();
    } catch (err) {
      this.error = (err as Error).message;
    }
    this.emit();
  }

  private follow(): void {
    const controller = new AbortController();
    streamEvents('/events?console=0&agent=0', controller.signal, (event) => {
      if (event.kind !== 'lifecycle') return;
      this.connected = true;
      const timeline = this.timelines.get(event.vmId) ?? [];
      timeline.push(event);
      this.timelines.set(event.vmId, timeline);
      const known = this.vms.get(event.vmId);
      if (known) this.put({ ...known, state: event.state });
      // The list, not GET /vms/:id: a VM being removed may be gone already (a 404 would be noise).
      this.resyncSoon();
    })
      .catch(quietAbort)
      .finally(() => {
        this.connected = false;
        this.emit();
        // The stream ends when the manager restarts or drops a slow reader: follow again.
        setTimeout(() => this.follow(), 2000);
      });
  }

  /** resync records its own failure in `error`. */
  private resyncQuietly(): void {
    this.resync().catch(() => undefined);
  }

  private pending: ReturnType<typeof setTimeout> | null = null;
  private resyncSoon(): void {
    this.pending ??= setTimeout(() => {
      this.pending = null;
      this.resyncQuietly();
    }, 100);
  }

  private put(vm: WireVm): void {
    const next = new Map(this.vms);
    next.set(vm.id, vm);
    this.vms = next;
    this.emit();
  }

  private sample(): void {
    const counts: Record<string, number> = Object.fromEntries(STATES.map((s) => [s, 0]));
    for (const vm of this.vms.values()) counts[vm.state] = (counts[vm.state] ?? 0) + 1;
    this.samples.push({ at: Date.now() / 1000, counts });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    this.emit();
  }

  private emit(): void {
    this.listeners.forEach((l) => l());
  }
}

export const store = new VmStore();

/** Re-renders the calling component on every store change. */
export function useStore(): VmStore {
  const [, setTick] = useState(0);
  useEffect(() => {
    store.start();
    return store.subscribe(() => setTick((t) => t + 1));
  }, []);
  return store;
}
