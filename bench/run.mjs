// `npm run bench`: every benchmark, each figure against a baseline measured in
// the same run; writes bench/results.json and prints a table.
import { writeFileSync } from 'node:fs';
import { runDiskProvisioning } from './disk-provisioning.mjs';

const figures = [...(await runDiskProvisioning())];
writeFileSync(new URL('./results.json', import.meta.url), `${JSON.stringify({ figures }, null, 2)}\n`);
console.log('\n| figure | value | baseline | ratio | goal | met |\n|---|---|---|---|---|---|');
for (const f of figures) console.log(`| ${f.name} | ${f.value} ${f.unit} | ${f.baseline} ${f.unit} | ${f.ratio} | ${f.goal} | ${f.met ? 'yes' : 'no'} |`);
