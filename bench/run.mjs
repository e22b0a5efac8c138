// `npm run bench`: every benchmark, each figure against a baseline measured in
// the same run; writes bench/results.json and prints a table.
// `npm run bench -- disk`, `-- manager`, `-- remove`, `-- hundred` or `-- measure` runs one group.
import { writeFileSync } from 'node:fs';
import { runDiskProvisioning } from './disk-provisioning.mjs';
import { runHundredVms } from './hundred-vms.mjs';
import { runManagerFigures } from './manager-figures.mjs';
import { runMeasureFigure } from './measure-figure.mjs';
import { runRemoveLatency } from './remove-latency.mjs';

const only = process.argv[2];
const figures = [];
if (!only || only === 'manager') figures.push(...(await runManagerFigures()));
if (!only || only === 'disk') figures.push(...(await runDiskProvisioning()));
if (!only || only === 'remove') figures.push(...(await runRemoveLatency()));
if (!only || only === 'hundred') figures.push(...(await runHundredVms()));
if (!only || only === 'measure') figures.push(...(await runMeasureFigure()));
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ figures }, null, 2)}\n`);
console.log('\n| figure | value | baseline | ratio | goal | met |\n|---|---|---|---|---|---|');
for (const f of figures) console.log(`| ${f.name} | ${f.value} ${f.unit} | ${f.baseline} | ${f.ratio} | ${f.goal} | ${f.met ? 'yes' : 'no'} |`);
process.exit(0);
