import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/*
 * Start-up allocates in one burst (module sources, protobuf descriptors, the
 * plugins' settings) and most of it survives, so V8 keeps doubling the young
 * generation during it, which an idle daemon then carries for good (it
 * shrinks only after garbage collections that an idle manager never
 * triggers): about 15 MiB of idle RSS (BENCHMARKS.md, #5a). So the young
 * generation keeps its initial size (1 MiB semi-spaces) through start-up,
 * and grows again shortly after the manager serves: by then what start-up
 * left has been promoted, and only sustained allocation — calls under load —
 * grows it. Kept at 1 MiB for good, 64 concurrent CVMInfo callers spent 4×
 * more time in the collector (figure #4).
 *
 * Growth is capped, too: Node 24's V8 doubles the young generation up to
 * 128 MiB under a steady allocation rate — a guest flooding its console
 * (every 16 KiB piece is a few short-lived strings) grew the manager by
 * 60 MiB of nursery alone. The cap (`--max-semi-space-size`) can only be set
 * on the command line, which `node dist/main.js`, the bin shim, the unit and
 * the image would all have to carry; the growth factor can be changed at any
 * time, so after each collection growth is allowed only while one more
 * doubling stays within YOUNG_GENERATION_CAP. Imported first by main.ts,
 * before any other module loads.
 */

/** The most the young generation (both semi-spaces) may grow to, in bytes. */
export const YOUNG_GENERATION_CAP = 16 * 2 ** 20;

setFlagsFromString('--semi-space-growth-factor=1');

function youngGenerationSize(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * After `delayMs`, the young generation grows again under load, up to
 * YOUNG_GENERATION_CAP. Returns a function that stops steering (tests).
 */
export function restoreYoungGenerationGrowth(delayMs = 1000): () => void {
  let growing = false;
  const steer = () => {
    const grow = youngGenerationSize() * 2 <= YOUNG_GENERATION_CAP;
    if (grow === growing) return;
    growing = grow;
    setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  };
  // Collections are what grow (and shrink) it: each one is a chance to steer.
  const observer = new PerformanceObserver(steer);
  const timer = setTimeout(() => {
    steer();
    observer.observe({ entryTypes: ['gc'] });
  }, delayMs);
  timer.unref();
  return () => {
    clearTimeout(timer);
    observer.disconnect();
  };
}
