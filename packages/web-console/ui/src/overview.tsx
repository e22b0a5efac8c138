import { useEffect, useState } from 'preact/hooks';
import { getJson, type HostView, type Session, type WireVm } from './api.js';
import { age, ttlLeft } from './format.js';
import { useStore } from './store.js';

type Column = { key: string; label: string; value: (vm: WireVm, now: number) => string; sort?: (vm: WireVm) => number | string };

const COLUMNS: Column[] = [
  { key: 'id', label: 'VM', value: (vm) => vm.id },
  { key: 'state', label: 'State', value: (vm) => vm.state },
  { key: 'backend', label: 'Backend', value: (vm) => vm.backend },
  { key: 'boot', label: 'Boot', value: (vm) => vm.boot },
  { key: 'port', label: 'Port', value: (vm) => vm.forwarded_port, sort: (vm) => Number(vm.forwarded_port) },
  { key: 'age', label: 'Age', value: (vm, now) => age(vm.created_at, now), sort: (vm) => -Date.parse(vm.created_at) },
  {
    key: 'ttl',
    label: 'TTL left',
    value: (vm, now) => ttlLeft(vm.ttl_deadline, now),
    sort: (vm) => (vm.ttl_deadline ? Date.parse(vm.ttl_deadline) : Infinity),
  },
  { key: 'gpu', label: 'GPU', value: (vm) => (vm.gpus ?? []).join(', ') || '—' },
  { key: 'adopted', label: 'Adopted', value: (vm) => (vm.adopted ? 'yes' : 'no') },
];

export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

function HostCard() {
  const [host, setHost] = useState<HostView | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const load = () =>
      getJson<HostView>('/host')
        .then(setHost)
        .catch((err: unknown) => setError((err as Error).message));
    void load();
    const t = setInterval(() => void load(), 5000);
    return () => clearInterval(t);
  }, []);
  if (!host) return <section class="card">{error || 'Loading host…'}</section>;
  const pct = (a: number, b: number) => (b > 0 ? Math.round((100 * a) / b) : 0);
  return (
    <section class="card host" aria-labelledby="host-title">
      <h2 id="host-title">Host</h2>
      <dl>
        <dt>Backend</dt>
        <dd data-testid="backend">
          {host.backend} {host.kvm ? '(KVM)' : '(TCG, no KVM)'}
        </dd>
        <dt>Probe</dt>
        <dd>
          {host.probe.available ? 'available' : 'unavailable'}: {host.probe.reason}
        </dd>
        <dt>VM slots</dt>
        <dd data-testid="slots">
          {host.vm_slots.used} used, {host.vm_slots.size - host.vm_slots.used} free of {host.vm_slots.size}
          <meter min={0} max={host.vm_slots.size} value={host.vm_slots.used} aria-label="VM slots used" />
        </dd>
        <dt>Port pool</dt>
        <dd>
          {host.port_pool.in_use} of {host.port_pool.size} in use ({pct(host.port_pool.in_use, host.port_pool.size)}%)
        </dd>
        <dt>GPU pool</dt>
        <dd data-testid="gpu-pool">{gpuPool(host)}</dd>
        <dt>Manager</dt>
        <dd>
          {host.version} · instance {host.instance_id} · since {new Date(host.started_at).toLocaleString()}
        </dd>
      </dl>
    </section>
  );
}

export function Overview({ session }: { session: Session }) {
  const store = useStore();
  const now = useNow();
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: string; dir: 1 | -1 }>({ key: 'age', dir: 1 });
  const column = COLUMNS.find((c) => c.key === sort.key) ?? COLUMNS[0]!;
  const key = column.sort ?? ((vm: WireVm) => column.value(vm, now));
  const needle = filter.trim().toLowerCase();
  const rows = [...store.vms.values()]
    .filter((vm) => needle === '' || COLUMNS.some((c) => c.value(vm, now).toLowerCase().includes(needle)))
    .sort((a, b) => {
      const x = key(a);
      const y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
    });
  return (
    <>
      <h1>Overview</h1>
      <HostCard />
      <section class="card" aria-labelledby="vms-title">
        <div class="row">
          <h2 id="vms-title">VMs</h2>
          <span class={store.connected ? 'live on' : 'live'}>{store.connected ? 'live' : 'connecting…'}</span>
          <label class="filter">
            Filter <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
          </label>
          {session.can_write ? (
            <a class="button" href="#/create">
              Create VM
            </a>
          ) : null}
        </div>
        {store.error ? <p class="error">{store.error}</p> : null}
        <table data-testid="vm-table">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.key} aria-sort={sort.key === c.key ? (sort.dir === 1 ? 'ascending' : 'descending') : undefined}>
                  <button type="button" class="link" onClick={() => setSort({ key: c.key, dir: sort.key === c.key ? (-sort.dir as 1 | -1) : 1 })}>
                    {c.label}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={COLUMNS.length}>No VMs.</td>
              </tr>
            ) : (
              rows.map((vm) => (
                <tr key={vm.id} data-vm={vm.id}>
                  <td>
                    <a href={`#/vm/${encodeURIComponent(vm.id)}`}>{vm.id}</a>
                  </td>
                  <td>
                    <span class={`state ${vm.state}`} data-testid="state">
                      {vm.state}
                    </span>
                  </td>
                  {COLUMNS.slice(2).map((c) => (
                    <td key={c.key}>{c.value(vm, now)}</td>
                  ))}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </section>
    </>
  );
}

/** The GPU plugin's pool as the host status shows it (its fields are absent without the plugin). */
function gpuPool(host: HostView): string {
  const pool = host.gpu_pool;
  if (pool === undefined || pool === null) return 'no GPU plugin';
  if (pool.length === 0) return 'no GPU configured';
  const inUse = host.gpus_in_use ?? [];
  return `${inUse.length} of ${pool.length} in use (${pool.map((b) => (inUse.includes(b) ? `${b} taken` : `${b} free`)).join(', ')})`;
}
