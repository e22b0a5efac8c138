/**
 * DOCUMENTATION CHECK, not product behaviour: the package picture in the root
 * README (the ```mermaid block of "## Architecture") must match what
 * `nx graph --file` reports — every project a node, every dependency an edge,
 * drawn solid for a runtime or peer dependency and dotted for a dev-only one,
 * and nothing more. When a package or a dependency is added, update the
 * picture. Runs nx graph once (a few seconds).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

type Style = 'solid' | 'dotted';
interface Edge {
  readonly from: string;
  readonly to: string;
  readonly style: Style;
}
const show = (e: Edge) => `${e.from} ${e.style === 'solid' ? '-->' : '-.->'} ${e.to}`;

interface NxGraph {
  graph: {
    nodes: Record<string, { data: { root: string } }>;
    dependencies: Record<string, { source: string; target: string }[]>;
  };
}

function nxGraph(): NxGraph {
  const require = createRequire(import.meta.url);
  const nxPackage = require.resolve('nx/package.json');
  const bin = (JSON.parse(readFileSync(nxPackage, 'utf8')) as { bin: { nx: string } }).bin.nx;
  const dir = mkdtempSync(join(tmpdir(), 'nx-graph-'));
  try {
    const file = join(dir, 'graph.json');
    execFileSync(process.execPath, [join(dirname(nxPackage), bin), 'graph', `--file=${file}`], {
      cwd: root,
      stdio: 'pipe',
      env: { ...process.env, NX_DAEMON: 'false' },
    });
    return JSON.parse(readFileSync(file, 'utf8')) as NxGraph;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Dotted when the target is only a devDependency of the source's package.json. */
function styleOf(sourceRoot: string, target: string): Style {
  const pkg = JSON.parse(readFileSync(join(root, sourceRoot, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
  const runtime = { ...pkg.dependencies, ...pkg.peerDependencies };
  return target in runtime || !(target in (pkg.devDependencies ?? {})) ? 'solid' : 'dotted';
}

/** Nodes (`id["project"]`) and edges (`a & b --> c`, `a -.-> b & c`) of the README's architecture picture. */
function readmePicture(): { projects: Set<string>; edges: Edge[] } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Architecture\n'));
  if (section === undefined) throw new Error('README.md has no "## Architecture" section: expected one holding a ```mermaid block');
  const block = /```mermaid\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error('the "## Architecture" section of README.md has no ```mermaid block');
  const ids = new Map<string, string>();
  const arrows: { from: string[]; to: string[]; style: Style; line: string }[] = [];
  for (const raw of block.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('%%') || /^graph\b/.test(line)) continue;
    const node = /^(\w+)\["([^"]+)"\]$/.exec(line);
    const arrow = /^(.+?)\s+(-->|-\.->)\s+(.+)$/.exec(line);
    if (node) ids.set(node[1]!, node[2]!);
    else if (arrow)
      arrows.push({
        from: arrow[1]!.split('&').map((s) => s.trim()),
        to: arrow[3]!.split('&').map((s) => s.trim()),
        style: arrow[2] === '-->' ? 'solid' : 'dotted',
        line,
      });
    else throw new Error(`README architecture picture: cannot read line "${line}": expected id["project"] or "a & b --> c" / "a -.-> c"`);
  }
  const project = (id: string, line: string) => {
    const name = ids.get(id);
    if (name === undefined) throw new Error(`README architecture picture: "${id}" in "${line}" is not a declared node id["project"]`);
    return name;
  };
  const edges = arrows.flatMap((a) => a.from.flatMap((f) => a.to.map((t) => ({ from: project(f, a.line), to: project(t, a.line), style: a.style }))));
  return { projects: new Set(ids.values()), edges };
}

describe('README architecture picture (documentation check)', () => {
  it('shows exactly the projects and dependencies of nx graph', { timeout: 120_000 }, () => {
    const { graph } = nxGraph();
    const picture = readmePicture();

    const projects = Object.keys(graph.nodes).sort();
    expect(projects.length, 'nx graph reported no project').toBeGreaterThan(0);
    expect([...picture.projects].sort(), 'projects in the README picture vs nx graph').toEqual(projects);

    const expected = Object.values(graph.dependencies)
      .flat()
      .filter((d) => d.target in graph.nodes)
      .map((d) => show({ from: d.source, to: d.target, style: styleOf(graph.nodes[d.source]!.data.root, d.target) }))
      .sort();
    const drawn = [...new Set(picture.edges.map(show))].sort();
    expect(drawn, 'edges of the README picture (solid: dependency or peer, dotted: dev only) vs nx graph').toEqual(expected);
  });
});
