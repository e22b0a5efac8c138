import { useEffect, useState } from 'preact/hooks';
import { AgentMessages } from './agent-view.js';
import { getJson, request, type Session } from './api.js';
import { age, ttlLeft } from './format.js';
import { useNow } from './overview.js';
import { PolicyView } from './policy-view.js';
import { useStore } from './store.js';
import { SerialConsole } from './terminal.js';

interface CvmInfo {
  readonly id: string;
  readonly ovmf_version: string;
  readonly cpu_num: number;
  readonly cpu_type: string;
  readonly kernel_cmd: string;
  readonly eos_version: string;
}

function Info({ id }: { id: string }) {
  const [info, setInfo] = useState<CvmInfo | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    getJson<CvmInfo>(`/vms/${encodeURIComponent(id)}/info`)
      .then(setInfo)
      .catch((err: unknown) => setError((err as Error).message));
  }, [id]);
  return (
    <section class="card" aria-labelledby="info-title">
      <h2 id="info-title">CVM info</h2>
      {error ? <p class="error">{error}</p> : null}
      {info ? (
        <dl>
          <dt>CPUs</dt>
          <dd>
            {info.cpu_num} × {info.cpu_type}
          </dd>
          <dt>OVMF</dt>
          <dd>{info.ovmf_version || '—'}</dd>
          <dt>EOS</dt>
          <dd>{info.eos_version || '—'}</dd>
          <dt>Kernel command line</dt>
          <dd>
            <code>{info.kernel_cmd}</code>
          </dd>
        </dl>
      ) : null}
    </section>
  );
}

export function VmPage({ id, session }: { id: string; session: Session }) {
  const store = useStore();
  const now = useNow();
  const [removing, setRemoving] = useState(false);
  const [error, setError] = useState('');
  const vm = store.vms.get(id);
  const timeline = store.timelines.get(id) ?? [];

  async function remove() {
    if (!confirm(`Remove VM ${id}? Its QEMU is stopped and its files are deleted.`)) return;
    setRemoving(true);
    try {
      await request('DELETE', `/vms/${encodeURIComponent(id)}`);
      location.hash = '#/';
    } catch (err) {
      setError((err as Error).message);
      setRemoving(false);
    }
  }

  if (!vm) return <p>{store.vms.size === 0 && !store.error ? 'Loading…' : `No VM ${id} (removed?).`}</p>;
  return (
    <>
      <div class="row">
        <h1>
          VM <code>{vm.id}</code>
        </h1>
        <span class={`state ${vm.state}`} data-testid="vm-state">
          {vm.state}
        </span>
        {session.can_write ? (
          <button type="button" class="danger" disabled={removing} onClick={() => void remove()}>
            {removing ? 'Removing…' : 'Remove'}
          </button>
        ) : null}
      </div>
      {error ? <p class="error">{error}</p> : null}
      <section class="card" aria-labelledby="summary-title">
        <h2 id="summary-title">Summary</h2>
        <dl>
          <dt>Backend / boot</dt>
          <dd>
            {vm.backend} / {vm.boot}
          </dd>
          <dt>Forwarded port</dt>
          <dd>{vm.forwarded_port}</dd>
          <dt>QEMU pid</dt>
          <dd>{vm.pid || '—'}</dd>
          <dt>Age</dt>
          <dd>{age(vm.created_at, now)}</dd>
          <dt>TTL left</dt>
          <dd>{ttlLeft(vm.ttl_deadline, now)}</dd>
          <dt>Guest</dt>
          <dd>{vm.guest_status || '—'}</dd>
          <dt>GPUs</dt>
          <dd>{(vm.gpus ?? []).join(', ') || '—'}</dd>
          <dt>Adopted</dt>
          <dd>{vm.adopted ? 'yes (from an earlier manager run)' : 'no'}</dd>
          {vm.exit ? (
            <>
              <dt>Exit</dt>
              <dd class="error" data-testid="exit">
                {vm.exit.reason} (code {vm.exit.code}
                {vm.exit.signal ? `, ${vm.exit.signal}` : ''})
              </dd>
            </>
          ) : null}
        </dl>
      </section>
      <section class="card" aria-labelledby="timeline-title">
        <h2 id="timeline-title">State timeline</h2>
        <ol class="timeline" data-testid="timeline">
          <li>
            <time>{new Date(vm.created_at).toLocaleTimeString()}</time> created
          </li>
          {timeline.map((e, i) => (
            <li key={i}>
              <time>{new Date(e.at).toLocaleTimeString()}</time> <span class={`state ${e.state}`}>{e.state}</span>
              {e.detail ? ` — ${e.detail}` : ''}
            </li>
          ))}
        </ol>
      </section>
      <SerialConsole id={id} />
      <AgentMessages id={id} />
      <Info id={id} />
      <PolicyView id={id} backend={vm.backend} />
    </>
  );
}
