// Lint: type-aware rules are not needed here; the point is the Nx module
// boundary rule, which keeps plugins importing only @cocos-manager/core.
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
];
