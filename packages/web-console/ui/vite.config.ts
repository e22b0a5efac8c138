import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// The console is served at /console/ by the HTTP transport, from the package's dist/ui.
// Everything is bundled into files of its own: the CSP forbids inline scripts and other origins.
export default defineConfig({
  root: here('.'),
  base: '/console/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: here('../dist/ui'),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
    sourcemap: false,
  },
});
