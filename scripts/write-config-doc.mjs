// Writes docs/configuration.md from the reference table `cocos-manager config --reference` printed.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const table = readFileSync('docs/configuration.part', 'utf8');
rmSync('docs/configuration.part');
writeFileSync(
  'docs/configuration.md',
  `# Configuration reference

Generated from the configuration schemas of the default build (\`npm run docs\`;
a test fails when this file is out of date). Every variable is an environment
variable; an empty value means the default. A bad value stops start-up with one
line naming the variable, the value and what is expected. Where the Go
manager's documents spell a variable two ways, both are accepted.

The same table for any build, including plugins loaded into it:
\`cocos-manager config --reference\`; effective values: \`cocos-manager config\`.

${table}`,
);
