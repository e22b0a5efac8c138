// Writes init/systemd/cocos-manager.env from `cocos-manager config --reference`
// (read from stdin): every variable, commented out, with its default.
import { readFileSync, writeFileSync } from 'node:fs';

const reference = readFileSync(0, 'utf8');
const lines = [
  '# /etc/cocos/cocos-manager.env — environment of the cocos-manager service.',
  '# Every variable is optional; the values below are the defaults. The full',
  '# list, with what each expects: `cocos-manager config --reference`',
  '# (docs/configuration.md). Secrets do not belong here: CreateVm carries them.',
  '',
];
for (const row of reference.split('\n')) {
  const m = /^\| `([A-Z0-9_]+)`(?: \/ `[A-Z0-9_]+`)* \| (.*?) \| (`(.*)`|\(empty\)) \| .* \|$/.exec(row);
  if (!m) continue;
  lines.push(`# ${m[2].replaceAll('\\|', '|')}`, `#${m[1]}=${m[4] ?? ''}`, '');
}
writeFileSync('init/systemd/cocos-manager.env', lines.join('\n'));
