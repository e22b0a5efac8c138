import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium), headless; no sandbox, as tests run as root. */
export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** What the page's scripts see, typed here without the DOM library (these tests compile for node). */
export interface BrowserGlobals {
  readonly sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}

export interface ConsolePage {
  readonly page: Page;
  /** Page errors and console errors, except those `expected` allows. */
  problems(): string[];
  /** Console errors that `expected` matches are the test's own doing (a refused request it forced). */
  expect(pattern: RegExp): void;
}

/** A fresh browser context on the console: the bearer token (if any) set for the tab before any script runs. */
export async function openConsole(browser: Browser, url: string, token?: string, options: BrowserContextOptions = {}): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  if (token !== undefined)
    await context.addInitScript((t) => (globalThis as unknown as BrowserGlobals).sessionStorage.setItem('cocos-manager.token', t), token);
  const page = await context.newPage();
  const seen: string[] = [];
  const allowed: RegExp[] = [];
  page.on('pageerror', (err) => seen.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') seen.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  await page.goto(url);
  return {
    page,
    problems: () => seen.filter((p) => !allowed.some((a) => a.test(p))),
    expect: (pattern) => allowed.push(pattern),
  };
}

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is. Injected
 * through the DevTools protocol, not a script tag, which the console's CSP
 * (rightly) refuses.
 */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: unknown }[] }[] }> } }
    ).axe;
    return (await axe.run()).violations;
  });
  return result
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`);
}
