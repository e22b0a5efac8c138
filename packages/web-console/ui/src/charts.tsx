import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot, { type AlignedData, type Options } from 'uplot';
import { getText } from './api.js';
import { parseHistogram, type Histogram } from './metrics.js';
import { STATES, useStore } from './store.js';

const COLOURS: Record<string, string> = {
  adopting: '#6639ba',
  provisioning: '#8a6d00',
  starting: '#1f6feb',
  running: '#1a7f37',
  stopping: '#9a6700',
  stopped: '#57606a',
  failed: '#cf222e',
};

/** A uPlot chart that follows its data; the instance lives as long as the component. */
function Plot({ options, data, label }: { options: Omit<Options, 'width' | 'height'>; data: AlignedData; label: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const width = Math.max(320, (box.current?.clientWidth ?? 640) - 8);
    plot.current = new uPlot({ ...options, width, height: 240 }, data, box.current!);
    return () => plot.current?.destroy();
  }, []);
  useEffect(() => plot.current?.setData(data), [data]);
  return <div ref={box} role="img" aria-label={label} />;
}

function StatesChart() {
  const store = useStore();
  const data: AlignedData = [store.samples.map((s) => s.at), ...STATES.map((state) => store.samples.map((s) => s.counts[state] ?? 0))];
  const options = {
    title: 'VMs by state',
    scales: { y: { range: (_u: uPlot, _min: number, max: number): [number, number] => [0, Math.max(1, max)] } },
    series: [{}, ...STATES.map((state) => ({ label: state, stroke: COLOURS[state], width: 2 }))],
  };
  return <Plot options={options} data={data} label="VMs by state over time" />;
}

function LatencyChart() {
  const [h, setH] = useState<Histogram | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    const load = () =>
      getText('/metrics')
        .then((text) => setH(parseHistogram(text, 'manager_vm_create_duration_seconds', { outcome: 'created' })))
        .catch((err: unknown) => setError((err as Error).message));
    void load();
    const t = setInterval(() => void load(), 5000);
    return () => clearInterval(t);
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!h) return <p>Loading metrics…</p>;
  // Creates per bucket (not cumulative), on a log axis of seconds.
  const perBucket = h.cumulative.map((c, i) => c - (i > 0 ? h.cumulative[i - 1]! : 0));
  const options = {
    title: 'Create latency (successful creates per bucket, seconds)',
    scales: { x: { distr: 3 as const } },
    axes: [{ label: 's' }, { label: 'creates' }],
    series: [{}, { label: 'creates', stroke: '#1f6feb', fill: 'rgba(31,111,235,0.2)', paths: uPlot.paths.stepped!({ align: 1 }) }],
  };
  return (
    <>
      <p data-testid="latency-summary">
        {h.count} successful creates{h.count > 0 ? `, mean ${(h.sum / h.count).toFixed(2)} s` : ''}
      </p>
      <Plot options={options} data={[h.bounds, perBucket]} label="create latency histogram" />
    </>
  );
}

export function Charts() {
  return (
    <>
      <h1>Charts</h1>
      <section class="card" aria-label="VMs by state over time">
        <StatesChart />
        <p class="hint">Sampled every 2 s while this console is open.</p>
      </section>
      <section class="card" aria-label="create latency">
        <LatencyChart />
      </section>
    </>
  );
}
