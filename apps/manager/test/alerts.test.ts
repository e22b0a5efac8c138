import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, startManager, type RunningManager } from './harness.js';

// The alert rules and dashboard shipped in deploy/, checked with promtool (Debian's prometheus
// package, installed by scripts/setup.sh) and against the metrics a real manager exports.
const RULES_DIR = path.join(REPO, 'deploy/prometheus');
const RULES = path.join(RULES_DIR, 'cocos-manager.rules.yml');
const RULE_TESTS = path.join(RULES_DIR, 'cocos-manager.rules.test.yml');
const DASHBOARD = path.join(REPO, 'deploy/grafana/cocos-manager.json');

/** Series the rules or dashboard read that the manager itself does not export, and why. */
const NOT_EXPORTED: Record<string, string> = {
  up: 'made by Prometheus for every scrape target',
};

const promtool = (...args: string[]) => execa('promtool', args, { reject: false, all: true });

/** The `expr:` values of a rules file (one line, or a `|` block indented under it). */
function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) return;
    if (m[2] !== '|') return void out.push(m[2]!);
    const block: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || lines[j]!.search(/\S/) > m[1]!.length); j++) block.push(lines[j]!.trim());
    out.push(block.join(' '));
  });
  return out;
}

/** Metric names a PromQL expression reads: identifiers that are not functions, keywords or labels. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names: string[] = [];
  for (const m of bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    if (m[2] === undefined && !['and', 'or', 'unless', 'bool', 'offset'].includes(m[1]!)) names.push(m[1]!);
  }
  return names;
}

function dashboardNames(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: Array<{ targets: Array<{ expr: string }> }>;
    templating: { list: Array<{ query: unknown }> };
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  expect(exprs.length).toBeGreaterThan(10);
  const templated = dashboard.templating.list.flatMap((v) =>
    typeof v.query === 'object' && v.query !== null ? [String((v.query as { query: string }).query)] : [],
  );
  return [...exprs.flatMap(metricNames), ...templated.flatMap((q) => [...(/label_values\(([a-zA-Z_:][\w:]*)/g.exec(q)?.slice(1) ?? [])])];
}

/** Every sample name /metrics can carry: each family, plus _bucket/_count/_sum of histograms and summaries. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram' || type === 'summary') for (const suffix of ['_bucket', '_count', '_sum']) names.add(`${name!}${suffix}`);
  }
  return names;
}

describe('Prometheus alert rules (promtool)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'cm-alerts-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('promtool check rules accepts every rule', async () => {
    const result = await promtool('check', 'rules', RULES);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain('SUCCESS: 9 rules found');
  });

  it('promtool test rules passes the synthetic-series tests', async () => {
    const result = await promtool('test', 'rules', RULE_TESTS);
    expect(result.exitCode, result.all).toBe(0);
  });

  it('every alert is tested both firing and not firing', () => {
    const alerts = [...readFileSync(RULES, 'utf8').matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]!);
    expect(alerts).toEqual([
      'CocosManagerDown',
      'CocosManagerVmFailed',
      'CocosManagerVmsCrashLooping',
      'CocosManagerCreateErrors',
      'CocosManagerPortPoolNearlyExhausted',
      'CocosManagerVmSlotsNearlyExhausted',
      'CocosManagerSlowCreates',
      'CocosManagerStateWritesFailing',
      'CocosManagerVmStateUnsaved',
    ]);
    const cases = [...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\S+)\n\s*exp_alerts:( \[\])?/g)].map((m) => ({
      alert: m[1]!,
      fires: m[2] === undefined,
    }));
    for (const alert of alerts) {
      expect(cases, alert).toContainEqual({ alert, fires: true });
      expect(cases, alert).toContainEqual({ alert, fires: false });
    }
  });

  it('the tests have teeth: a rule with a raised threshold fails them', async () => {
    cpSync(RULES_DIR, tmp, { recursive: true });
    const rules = readFileSync(path.join(tmp, 'cocos-manager.rules.yml'), 'utf8');
    writeFileSync(
      path.join(tmp, 'cocos-manager.rules.yml'),
      rules.replace('manager_port_pool_in_use / manager_port_pool_size >= 0.9', 'manager_port_pool_in_use / manager_port_pool_size >= 0.95'),
    );
    const result = await promtool('test', 'rules', path.join(tmp, 'cocos-manager.rules.test.yml'));
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/alertname: CocosManagerPortPoolNearlyExhausted/);
  });
});

describe('the rules and the Grafana dashboard read only metrics the manager exports', () => {
  let m: RunningManager;
  let exported: Set<string>;
  beforeAll(async () => {
    m = await startManager('6640-6641');
    const scrape = await m.http('GET', '/metrics');
    expect(scrape.status).toBe(200);
    exported = exportedNames(scrape.text);
  });
  afterAll(async () => {
    await m?.dispose();
  });

  it('the scrape is parsed: it has the families the rules are about', () => {
    for (const name of [
      'manager_vms',
      'manager_port_pool_in_use',
      'manager_port_pool_size',
      'manager_vm_create_duration_seconds_bucket',
      'manager_api_requests_total',
      'manager_state_write_failures_total',
      'manager_vms_state_unsaved',
      'process_cpu_seconds_total',
    ])
      expect(exported).toContain(name);
    expect(metricNames('histogram_quantile(0.9, sum by (le) (rate(a_bucket{x="y"}[5m]))) / on (job) b > 1 and c')).toEqual(['a_bucket', 'b', 'c']);
  });

  it.each([
    ['alert rules', () => ruleExpressions(readFileSync(RULES, 'utf8')).flatMap(metricNames)],
    ['Grafana dashboard', dashboardNames],
  ])('%s', (_what, used) => {
    const names = new Set(used());
    expect(names.size).toBeGreaterThan(3);
    const unknown = [...names].filter((n) => !exported.has(n) && !(n in NOT_EXPORTED));
    expect(unknown, 'metric names the manager does not export').toEqual([]);
  });

  it('the exception list stays honest: each exception is used and really not exported', () => {
    const used = new Set([...ruleExpressions(readFileSync(RULES, 'utf8')).flatMap(metricNames), ...dashboardNames()]);
    for (const name of Object.keys(NOT_EXPORTED)) {
      expect(used, name).toContain(name);
      expect(exported, `${name} is exported now: drop it from NOT_EXPORTED`).not.toContain(name);
    }
  });
});
