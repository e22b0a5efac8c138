import { setFlagsFromString } from 'node:v8';

/*
 * Start-up allocates in one burst (protobuf descriptors, the plugins'
 * settings, gRPC reflection) and most of it survives, so V8 keeps doubling
 * the young generation during it — to 32 MiB, which an idle daemon then
 * carries for good (it only shrinks after garbage collections that an idle
 * manager never triggers): about 15 MiB of idle RSS (BENCHMARKS.md, #5a).
 * The manager keeps V8's initial young generation (1 MiB semi-spaces): its
 * requests are small and short-lived, so a scavenge of it stays cheap, and
 * figure #4 (64 concurrent callers) measures the cost in the same run.
 * Imported first by main.ts, so it runs before any other module's top level.
 */
setFlagsFromString('--semi-space-growth-factor=1');
