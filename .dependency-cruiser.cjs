// Import-cycle check for the sources of every package, app and example
// (`npm run check:cycles`). Type-only imports count: a cycle through
// `import type` still ties the modules together for a reader and for tsc.
// Edges between packages go through node_modules and are not followed here;
// a cycle between packages is caught by Nx (nx graph, enforce-module-boundaries).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle (type-only imports included). Move the shared type or interface to a module both sides can import.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-api-is-plain',
      severity: 'error',
      comment:
        "core's plugin API (packages/core/src/api/) is interfaces, tokens and plain types: it may import other api/ files, the QEMU command model (qemu/) and the token helper, never an implementation (vm/, kernel/, config/, security/, attestation/, boot/). Move the type into api/ and let the implementation import it.",
      from: { path: '^packages/core/src/api/' },
      to: { path: '^packages/core/src/(?!api/|qemu/|errors/|tokens\\.ts$|errors\\.ts$)' },
    },
  ],
  options: {
    // Keep imports that vanish after compilation (import type, type-only specifiers).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    // Sources only: tests may import freely across a package.
    includeOnly: { path: '^(packages|apps|examples)/[^/]+/src/' },
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['/dist/', '/node_modules/', '\\.d\\.ts$'] },
    // Relative `./x.js` specifiers resolve to `./x.ts` (dependency-cruiser retries
    // with the TypeScript extensions, as tsc does under NodeNext).
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'types', 'node', 'default'],
      extensions: ['.ts', '.js', '.json'],
    },
    skipAnalysisNotInRules: true,
  },
};
