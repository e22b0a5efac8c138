#!/usr/bin/env node
// The Computation Management stub's CLI (see `cocos-cm-stub --help`); built into dist/ by `npm run build`.
import { main } from '../dist/cm-stub-cli.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`cocos-cm-stub: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
