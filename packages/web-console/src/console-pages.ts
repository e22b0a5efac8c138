import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpPageFile, HttpPages } from '@cocos-manager/core';

/** The Vite build's output: dist/ui next to dist/index.js, or the package's dist/ui when run from src (tests). */
export const UI_DIR = fileURLToPath(new URL('../dist/ui/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/**
 * No inline script and nothing from elsewhere (hosts are often offline, and a
 * page that can run foreign code could drive the API as its operator). Styles
 * set from script (xterm.js, uPlot) go through the CSSOM; `style-src` allows
 * inline styles only because xterm.js writes its theme into a style element.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? listFiles(full, `${prefix}${name}/`) : [`${prefix}${name}`];
  });
}

/** The console's files, served at /console/: only the files the build wrote (the set is fixed at start, so no path escapes it). */
export class ConsolePages implements HttpPages {
  readonly prefix = '/console';
  readonly headers: Readonly<Record<string, string>> = {
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-cache',
  };
  private readonly files: ReadonlySet<string>;

  constructor(private readonly dir: string = UI_DIR) {
    this.files = new Set(listFiles(dir));
  }

  async file(requested: string): Promise<HttpPageFile | null> {
    const name = requested === '' ? 'index.html' : requested;
    if (!this.files.has(name)) {
      if (name === 'index.html') return { body: Buffer.from('the web console is not built: npm run build\n'), contentType: 'text/plain; charset=utf-8' };
      return null;
    }
    const body = await readFile(path.join(this.dir, name));
    return { body, contentType: TYPES[path.extname(name)] ?? 'application/octet-stream' };
  }
}
