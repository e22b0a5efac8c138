// Lint: the Nx module boundary rule (plugins import only @cocos-manager/core
// and the shared @cocos-manager/contract), and type-aware rules for promises
// nobody waits for or catches. Each file is checked against its own
// package's tsconfig.json (found by the project service walking up from the
// file), which includes src and test.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', 'build/**', '.nx/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:contract', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:plugin', onlyDependOnLibsWithTags: ['scope:core', 'scope:contract'] },
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:core', 'scope:contract'] },
            { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:core', 'scope:contract', 'scope:plugin'] },
          ],
        },
      ],
    },
  },
  {
    // A plugin builds on core's plugin API ("@cocos-manager/core"); the kernel
    // and lifecycle behind it ("@cocos-manager/core/internal") are for the app
    // that assembles a manager and the test kit that drives one, and for tests.
    files: ['packages/*/src/**/*.ts', 'examples/*/src/**/*.ts'],
    ignores: ['packages/testing/src/**', 'packages/core/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@cocos-manager/core/internal',
              message: 'A plugin imports only the plugin API, "@cocos-manager/core"; ask for what you need through a token of api/.',
            },
          ],
        },
      ],
    },
  },
  {
    // node:crypto, node:http and node:https as values come from core's
    // node-builtins.ts: an ES import of them builds Node's module facade,
    // which loads WebCrypto and undici (~3 MiB of an idle manager's RSS).
    files: ['packages/*/src/**/*.ts', 'apps/*/src/**/*.ts', 'examples/*/src/**/*.ts'],
    ignores: ['packages/core/src/node-builtins.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['crypto', 'http', 'https'].flatMap((name) =>
            [name, `node:${name}`].map((specifier) => ({
              name: specifier,
              allowTypeImports: true,
              message: `Use node${name[0].toUpperCase()}${name.slice(1)} from "@cocos-manager/core": an ES import of ${specifier} loads ${name === 'crypto' ? 'WebCrypto' : 'undici'} (packages/core/src/node-builtins.ts).`,
            })),
          ),
        },
      ],
    },
  },
  {
    // A plugin's tests may also use the test kit; its sources may not.
    files: ['packages/*/test/**/*.ts', 'examples/*/test/**/*.ts', 'apps/*/test/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:contract', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:plugin', onlyDependOnLibsWithTags: ['scope:core', 'scope:contract', 'scope:testing'] },
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:core', 'scope:contract'] },
            { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:core', 'scope:contract', 'scope:plugin', 'scope:testing'] },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A promise nobody awaits: its rejection is lost (or kills the process).
      // Await it, or hand it a .catch() that logs; `void p` does not count.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      // An async function where a void callback is expected (event handlers,
      // timers, array callbacks): nobody waits for it and nobody sees it fail.
      '@typescript-eslint/no-misused-promises': 'error',
      // `await` on something that is not a promise is a mistake about a type.
      '@typescript-eslint/await-thenable': 'error',
    },
  },
];
