import { ERROR_CATALOGUE, type ErrorCatalogueEntry, type ErrorScope } from './catalogue.js';

const SCOPES: ReadonlyArray<{ scope: ErrorScope; title: string; intro: string }> = [
  {
    scope: 'call',
    title: 'Errors of API calls',
    intro:
      'What a gRPC or HTTP call can fail with. On gRPC: the status, details `CODE: message`, and the trailing metadata `cocos-error-code: CODE`. On HTTP: the status and the body `{"error": {"code": STATUS, "reason": CODE, "message": "CODE: …"}}`. Branch on the code, never on the message.',
  },
  {
    scope: 'start-up',
    title: 'Errors that stop the manager at start-up',
    intro: 'Printed as one line, `cocos-manager: CODE: …`, before the manager serves; it exits with status 1.',
  },
  {
    scope: 'log',
    title: 'Errors only in the log',
    intro: 'Failures the manager handles itself (retries, teardown) or reports to clients under another code; they appear in its log with their code.',
  },
];

const cell = (text: string) => text.replace(/\|/g, '\\|');

function row(code: string, e: ErrorCatalogueEntry): string {
  const where = e.scope === 'call' ? e.transports.join(', ') : '—';
  return `| \`${code}\` | ${e.code} (${e.grpcStatus}) | ${e.httpStatus} | ${where} | ${cell(e.doc)} |`;
}

/** docs/errors.md: every code of the catalogue, by where it can be seen (`npm run docs` writes it; a test compares). */
export function renderErrorCatalogue(): string {
  const out = [
    '# Error codes',
    '',
    '<!-- Generated from packages/core/src/errors/catalogue.ts by `npm run docs`; do not edit. -->',
    '',
    'Every failure the manager reports has a stable code. The gRPC status and the HTTP status follow from it.',
    '',
  ];
  for (const { scope, title, intro } of SCOPES) {
    out.push(`## ${title}`, '', intro, '', '| Code | gRPC status | HTTP | Transports | Meaning |', '| --- | --- | --- | --- | --- |');
    for (const [code, entry] of Object.entries<ErrorCatalogueEntry>(ERROR_CATALOGUE)) if (entry.scope === scope) out.push(row(code, entry));
    out.push('');
  }
  return out.join('\n');
}
