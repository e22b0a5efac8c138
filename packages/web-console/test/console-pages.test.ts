import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HTTP_PAGES, resolveAllTokens } from '@cocos-manager/core';
import { inertBackendPlugin, startTestManager } from '@cocos-manager/testing';
import { ConsolePages, CONTENT_SECURITY_POLICY, webConsolePlugin } from '../src/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-console-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('ConsolePages', () => {
  mkdirSync(path.join(dir, 'assets'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html>');
  writeFileSync(path.join(dir, 'assets', 'index-abc.js'), 'export {}');
  writeFileSync(path.join(dir, 'secret.txt'), 'x');
  const pages = new ConsolePages(dir);
  writeFileSync(path.join(dir, 'late.js'), 'written after start');

  it('serves the index at the prefix and the built files with their types', async () => {
    expect(pages.prefix).toBe('/console');
    expect(await pages.file('')).toMatchObject({ contentType: 'text/html; charset=utf-8' });
    expect(await pages.file('assets/index-abc.js')).toMatchObject({ contentType: 'text/javascript; charset=utf-8' });
  });

  it('serves nothing outside the set of files found at start', async () => {
    for (const p of ['../package.json', 'assets/../../index.html', '/etc/passwd', 'late.js', 'assets', 'assets/']) expect(await pages.file(p)).toBeNull();
  });

  it('sends a strict CSP: no inline or foreign script, no framing', () => {
    expect(pages.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self';");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(pages.headers['x-frame-options']).toBe('DENY');
  });
});

describe('webConsolePlugin', () => {
  it.each([
    [{}, 1],
    [{ MANAGER_HTTP_CONSOLE_ENABLE: 'false' }, 0],
  ])('contributes its pages unless turned off (%j)', async (env, count) => {
    const t = await startTestManager({ plugins: [inertBackendPlugin, webConsolePlugin], env, start: false });
    try {
      expect(resolveAllTokens(t.manager.container, HTTP_PAGES)).toHaveLength(count);
    } finally {
      await t.stop();
    }
  });
});
