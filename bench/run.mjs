// `npm run bench`: every benchmark, each figure against a baseline measured in
// the same run; writes bench/results.json and prints a table.
// `npm run bench -- <group>` runs one group: manager, disk, remove, hundred,
// thousand, many, guard or measure.
import { writeFileSync } from 'node:fs';
import { runDiskProvisioning } from './disk-provisioning.mjs';
import { runGuardFigure } from './guard-figure.mjs';
import { runHundredVms } from './hundred-vms.mjs';
import { runManagerFigures } from './manager-figures.mjs';
import { runManyRealVms } from './many-real-vms.mjs';
import { runMeasureFigure } from './measure-figure.mjs';
import { runRemoveLatency } from './remove-latency.mjs';
import { runThousandVms } from './thousand-vms.mjs';

const groups = [
  ['manager', runManagerFigures],
  ['disk', runDiskProvisioning],
  ['remove', runRemoveLatency],
  ['hundred', runHundredVms],
  ['thousand', runThousandVms],
  ['many', runManyRealVms],
  ['guard', runGuardFigure],
  ['measure', runMeasureFigure],
];
const only = process.argv[2];
if (only && !groups.some(([name]) => name === only)) {
  console.error(`bench: no group "${only}" (one of: ${groups.map(([name]) => name).join(', ')})`);
  process.exit(2);
}
const started = Date.now();
const figures = [];
for (const [name, run] of groups) {
  if (only && only !== name) continue;
  const t = Date.now();
  process.stderr.write(`bench: ${name}…\n`);
  figures.push(...(await run()));
  process.stderr.write(`bench: ${name} took ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
}
const totalSeconds = Math.round((Date.now() - started) / 1000);
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ totalSeconds, figures }, null, 2)}\n`);
console.log('\n| figure | value | baseline | ratio | goal | met |\n|---|---|---|---|---|---|');
for (const f of figures) console.log(`| ${f.name} | ${f.value} ${f.unit} | ${f.baseline} | ${f.ratio} | ${f.goal} | ${f.met ? 'yes' : 'no'} |`);
console.log(`\nbench: ${figures.length} figures in ${totalSeconds} s`);
process.exit(0);
