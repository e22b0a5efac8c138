import type { SettingDescription } from '@cocos-manager/core';

/** The configuration reference as a Markdown table, generated from the loaded schemas. */
export function renderConfigReference(settings: readonly SettingDescription[]): string {
  const escape = (s: string) => s.replaceAll('|', '\\|');
  const rows = settings.map((s) => {
    const names = [s.env, ...s.aliases].map((n) => `\`${n}\``).join(' / ');
    const def = s.default === '' ? '(empty)' : `\`${escape(s.default)}\``;
    return `| ${names} | ${escape(s.doc)} Expected: ${escape(s.expected)}. | ${def} | ${s.owner} |`;
  });
  return ['| Variable | Meaning | Default | Declared by |', '|---|---|---|---|', ...rows].join('\n') + '\n';
}
