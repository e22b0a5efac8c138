// Type-aware lint, prepared to be folded into eslint.config.js: the base rules
// plus the ones that need types, for promises nobody waits for or catches.
// Try it:  npx eslint -c eslint.typed.config.js packages apps examples
// Each file is checked against its own package's tsconfig.json (found by the
// project service walking up from the file), which includes src and test.
import tseslint from 'typescript-eslint';
import base from './eslint.config.js';

export default [
  ...base,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      // A promise nobody awaits: its rejection is lost (or kills the process).
      // Await it, or hand it a .catch() that logs; `void p` does not count as
      // handling it (ignoreVoid: false), as the issue asks.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      // An async function where a void callback is expected (event handlers,
      // timers, array callbacks): nobody waits for it and nobody sees it fail.
      '@typescript-eslint/no-misused-promises': 'error',
      // `await` on something that is not a promise is a mistake about a type.
      '@typescript-eslint/await-thenable': 'error',
      // An async method without await is fine when it implements an async interface.
      '@typescript-eslint/require-await': 'off',
    },
  },
];
