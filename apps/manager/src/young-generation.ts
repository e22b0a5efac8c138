import { setFlagsFromString } from 'node:v8';

/*
 * Start-up allocates in one burst (module sources, protobuf descriptors, the
 * plugins' settings) and most of it survives, so V8 keeps doubling the young
 * generation during it — to 32 MiB, which an idle daemon then carries for
 * good (it shrinks only after garbage collections that an idle manager never
 * triggers): about 15 MiB of idle RSS (BENCHMARKS.md, #5a). So the young
 * generation keeps its initial size (1 MiB semi-spaces) through start-up,
 * and V8's default growth (factor 2) comes back shortly after the manager
 * serves: by then what start-up left has been promoted, and only sustained
 * allocation — calls under load — grows it again. Kept at 1 MiB for good,
 * 64 concurrent CVMInfo callers spent 4× more time in the collector
 * (figure #4). Imported first by main.ts, before any other module loads.
 */
setFlagsFromString('--semi-space-growth-factor=1');

/** After `delayMs`, V8's default young-generation growth again. */
export function restoreYoungGenerationGrowth(delayMs = 1000): void {
  setTimeout(() => setFlagsFromString('--semi-space-growth-factor=2'), delayMs).unref();
}
