// The floors under figure 5a: what Node.js alone, and Node.js with only the
// manager's libraries loaded, hold in RSS — measured like the manager (2 s
// after start, same V8 young-generation setting as apps/manager/src/young-generation.ts).
import { execa } from 'execa';
import { rssMiB, sleep } from './lib.mjs';

/** What a default configuration loads at idle (tracing ratio 0, no CoRIM asked, no CLI command). */
export const IDLE_LIBRARIES = [
  '@grpc/grpc-js',
  '@grpc/proto-loader',
  '@grpc/reflection',
  'grpc-health-check',
  'fastify',
  'prom-client',
  '@opentelemetry/api',
  'pino',
  'convict',
  'execa',
  'tsyringe',
  'semver',
];
/** Besides those, what is loaded only when used: the W3C propagator, the tracing SDK and exporter, cbor-x, commander. */
export const LAZY_LIBRARIES = [
  '@opentelemetry/core',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/context-async-hooks',
  'cbor-x',
  'commander',
];

const V8_FLAGS = ['--semi-space-growth-factor=1'];

async function probe(libraries) {
  const child = execa(
    'node',
    [
      ...V8_FLAGS,
      '--input-type=module',
      '-e',
      `import 'reflect-metadata';
      for (const m of ${JSON.stringify(libraries)}) await import(m);
      console.log('loaded');
      setInterval(() => {}, 1000);`,
    ],
    { cwd: new URL('../apps/manager/', import.meta.url), reject: false, buffer: false, stdout: 'pipe' },
  );
  await new Promise((resolve) => child.stdout.once('data', resolve));
  await sleep(2000);
  const rss = rssMiB(child.pid);
  child.kill('SIGKILL');
  await child;
  return rss;
}

/** RSS of: bare node, node with the idle libraries, node with every library. */
export async function memoryFloors() {
  return {
    bareNodeMiB: await probe([]),
    idleLibrariesMiB: await probe(IDLE_LIBRARIES),
    allLibrariesMiB: await probe([...IDLE_LIBRARIES, ...LAZY_LIBRARIES]),
  };
}
