import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest, PROCESS_LAUNCHER, TRANSPORT, type Transport } from '@cocos-manager/core';
import { createInertBackendPlugin, FakeLauncher, makeTestPki, startTestManager, type TestManager, type TestPki } from '@cocos-manager/testing';
import { httpTransportPlugin } from '@cocos-manager/transport-http';
import { webConsolePlugin } from '@cocos-manager/web-console';
import { MAIN, REPO, startManager, type RunningManager } from './harness.js';
import { launchChromium, openConsole, seriousA11yViolations, type BrowserGlobals, type ConsolePage } from './web-console-browser.js';

/** The console in a real browser (Debian's Chromium) against the real manager and the dev guest: one guest boots. */
const ADMIN = 'admin-token-0123456789abcdef0123456789';
const READER = 'reader-token-0123456789abcdef012345678';
const SHOTS = path.join(REPO, 'build/screenshots');
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-web-console-'));

let browser: Browser;
let m: RunningManager;
let base = '';
let vmId = '';

async function shot(c: ConsolePage, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await c.page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** No page error, no console error, no serious or critical accessibility violation. */
async function clean(c: ConsolePage): Promise<void> {
  expect(await seriousA11yViolations(c.page)).toEqual([]);
  expect(c.problems()).toEqual([]);
}

beforeAll(async () => {
  const tokens = path.join(dir, 'tokens');
  writeFileSync(tokens, `admin operator ${ADMIN}\nreader auditor ${READER}\n`);
  chmodSync(tokens, 0o600);
  [browser, m] = await Promise.all([
    launchChromium(),
    startManager('6720-6724', {
      MANAGER_AUTH_TOKENS_FILE: tokens,
      MANAGER_VM_POWERDOWN_TIMEOUT: '2s',
      MANAGER_INSTANCE_ID: 'web-console-test',
      // The guest's agent speaks over the channel: its VM page shows what it said.
      MANAGER_AGENT_CHANNEL: 'virtio-serial',
    }),
  ]);
  base = `http://127.0.0.1:${m.httpPort}/console/`;
});

afterAll(async () => {
  await browser?.close();
  await m?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('web console against the real manager', () => {
  it('is served with a strict CSP, its assets bundled, and needs no credentials to load (the API does)', async () => {
    const res = await fetch(base);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
    expect((await fetch(`http://127.0.0.1:${m.httpPort}/vms`)).status).toBe(401);
    expect((await fetch(`${base}../etc/passwd`)).status).toBe(404);
  });

  it('admin: create from the form → running → console, with screenshots and accessibility checks', { timeout: 300_000 }, async () => {
    const c = await openConsole(browser, base, ADMIN);
    const { page } = c;
    await page.getByTestId('role').filter({ hasText: 'operator · admin' }).waitFor();
    await page.getByText('No VMs.').waitFor();
    await page.getByTestId('backend').filter({ hasText: 'plain' }).waitFor();

    await page.getByRole('link', { name: 'Create VM' }).first().click();
    await page.getByLabel('TTL').fill('ten minutes');
    await expect.poll(() => page.getByTestId('error-ttl').textContent()).toContain('a Go duration');
    expect(await page.getByRole('button', { name: 'Create VM' }).isDisabled()).toBe(true);
    await page.getByLabel('TTL').fill('10m');
    // The API's own field error, shown at its field.
    await page.getByLabel('KBS parameters').fill('has a space');
    await page.getByRole('button', { name: 'Create VM' }).click();
    await expect.poll(() => page.getByTestId('error-aa_kbs_params').textContent()).toContain('aa_kbs_params must be printable ASCII');
    c.expect(/status of 400/);
    await page.getByLabel('KBS parameters').fill('cc_kbc::http://kbs:8080');
    await page
      .getByLabel('Server CA certificate (PEM)')
      .setInputFiles({ name: 'ca.pem', mimeType: 'text/plain', buffer: Buffer.from('-----BEGIN CERTIFICATE-----\n') });
    await shot(c, 'create-form');
    await clean(c);

    await page.getByLabel('Server CA certificate (PEM)').setInputFiles([]);
    await page.getByRole('button', { name: 'Create VM' }).click();
    await page.waitForURL(/#\/vm\//, { timeout: 60_000 });
    vmId = decodeURIComponent(new URL(page.url()).hash.slice('#/vm/'.length));
    await page.getByTestId('vm-state').filter({ hasText: 'running' }).waitFor({ timeout: 60_000 });
    await page
      .getByTestId('console')
      .filter({ hasText: `agent listening on 7002 for ${vmId}` })
      .waitFor({ timeout: 150_000 }); // a TCG boot on a busy 2-core host
    // The agent's boot event and log, live on the VM page (the guest's text, shown as text).
    await page.getByTestId('agent-messages').filter({ hasText: 'agent-start' }).waitFor({ timeout: 60_000 });
    // Its log line is a message of its own: it may reach the page after the event.
    await page.getByTestId('agent-messages').locator('li[data-kind="log"]').first().waitFor({ timeout: 60_000 });
    await shot(c, 'vm-page');
    await clean(c);

    await page.getByRole('link', { name: 'Overview' }).click();
    const row = page.locator(`tr[data-vm="${vmId}"]`);
    await row.getByTestId('state').filter({ hasText: 'running' }).waitFor();
    expect(await row.textContent()).toMatch(/ram.*\d{4}.*\dm/);
    await page.getByTestId('slots').filter({ hasText: '1 used' }).waitFor();
    expect(await page.getByTestId('gpu-pool').textContent()).toBe('no GPU configured'); // the GPU plugin is loaded, with no GPU
    await page.getByRole('button', { name: 'Port' }).click();
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toBe('Port');
    await page.getByLabel('Filter').fill('no-such-vm');
    await page.getByText('No VMs.').waitFor();
    await page.getByLabel('Filter').fill('');
    await shot(c, 'overview');
    await clean(c);

    await page.getByRole('link', { name: 'Charts' }).click();
    await page.getByTestId('latency-summary').filter({ hasText: '1 successful creates' }).waitFor();
    await clean(c);
    await page.context().close();
  });

  it('reader: no write control, and a write forced from the page is refused (403)', async () => {
    // No token yet: the API answers 401 and the console asks for one.
    const c = await openConsole(browser, base);
    const { page } = c;
    c.expect(/status of 401/);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await seriousA11yViolations(page)).toEqual([]);
    await page.getByLabel('Bearer token').fill(READER);
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.getByTestId('role').filter({ hasText: 'auditor · reader' }).waitFor();
    await page.locator(`tr[data-vm="${vmId}"]`).waitFor();
    expect(await page.getByRole('link', { name: 'Create VM' }).count()).toBe(0);
    await page.goto(`${base}#/vm/${vmId}`);
    await page.getByTestId('vm-state').waitFor();
    expect(await page.getByRole('button', { name: 'Remove' }).count()).toBe(0);
    await page.goto(`${base}#/create`);
    await page.getByText('Creating VMs needs the admin role').waitFor();
    expect(await page.locator('form.create').count()).toBe(0);
    const forced = await page.evaluate(async (id) => {
      const token = (globalThis as unknown as BrowserGlobals).sessionStorage.getItem('cocos-manager.token') ?? '';
      const post = await fetch('/vms', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}' });
      const remove = await fetch(`/vms/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      return [post.status, remove.status];
    }, vmId);
    expect(forced).toEqual([403, 403]);
    c.expect(/status of 403/);
    await clean(c);
    await page.context().close();
  });

  it('admin: remove from the VM page → the row is gone', async () => {
    const c = await openConsole(browser, `${base}#/vm/${vmId}`, ADMIN);
    const { page } = c;
    page.on('dialog', (d) => {
      d.accept().catch(() => undefined);
    });
    await page.getByRole('button', { name: 'Remove' }).click();
    await page.waitForURL((url) => url.hash === '#/', { timeout: 30_000 });
    await page.getByText('No VMs.').waitFor({ timeout: 30_000 });
    expect(await page.locator(`tr[data-vm="${vmId}"]`).count()).toBe(0);
    expect(c.problems()).toEqual([]);
    await page.context().close();
  });
});

describe('web console over HTTPS with mTLS: the attestation view of a recorded SEV-SNP configuration', () => {
  let t: TestManager;
  let digest = '';
  let pki: TestPki;
  const launcher = new FakeLauncher();
  beforeAll(async () => {
    // The SNP policy the real binary previews for a recorded configuration (an IGVM and its measurement).
    digest = 'c0ffee'.repeat(16);
    writeFileSync(path.join(dir, 'igvmmeasure'), `#!/bin/sh\necho ${digest}\n`);
    chmodSync(path.join(dir, 'igvmmeasure'), 0o755);
    copyFileSync(MAIN, path.join(dir, 'svsm.igvm'));
    const preview = await execa('node', [MAIN, 'attestation-policy', '--format', 'json'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        MANAGER_RUN_DIR: path.join(dir, 'run'),
        MANAGER_STATE_DIR: path.join(dir, 'state'),
        MANAGER_QEMU_ENABLE_SEV_SNP: 'true',
        MANAGER_IGVMMEASURE_BINARY: path.join(dir, 'igvmmeasure'),
        MANAGER_QEMU_IGVM_FILE: path.join(dir, 'svsm.igvm'),
      },
      extendEnv: false,
    });
    const json = JSON.parse(preview.stdout) as { policy: { measurement: string } };
    expect(Buffer.from(json.policy.measurement, 'base64').toString('hex')).toBe(digest);
    // Served by a manager whose backend answers with that policy: SNP hardware is not needed to show it.
    const doc = {
      tee: 'sev-snp',
      environment: { vendor: 'AMD', model: 'SEV-SNP' },
      json,
      measurements: [{ name: 'launch-measurement', digest: Buffer.from(digest, 'hex') }],
    };
    const boot = path.join(dir, 'boot');
    writeFileSync(boot, 'x');
    mkdirSync(path.join(dir, 'pki'));
    pki = await makeTestPki(path.join(dir, 'pki'));
    t = await startTestManager({
      plugins: [createInertBackendPlugin({ attestationPolicy: async () => doc }), httpTransportPlugin, webConsolePlugin],
      env: {
        MANAGER_QEMU_DISK_IMG_KERNEL_FILE: boot,
        MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: boot,
        MANAGER_QEMU_HOST_FWD_RANGE: '6725-6729',
        // HTTPS, client certificates required; the browser's certificate (CN cocos-cli) is a reader.
        MANAGER_HTTP_SERVER_CERT: pki.file('server.pem'),
        MANAGER_HTTP_SERVER_KEY: pki.file('server.key'),
        MANAGER_HTTP_CLIENT_CA_CERTS: pki.file('client-ca.pem'),
        MANAGER_AUTH_MTLS_READERS: 'cocos-cli',
      },
      overrides: [{ token: PROCESS_LAUNCHER, useValue: launcher }],
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('a reader identified by its client certificate sees the launch digest and downloads the CoRIM, and a failed VM its exit reason; no write control', async () => {
    const id = (await t.manager.service.create(emptyCreateVmRequest())).id;
    const port = t.manager.container
      .resolveAll<Transport & { port(): number }>(TRANSPORT)
      .find((x) => x.name === 'http')!
      .port();
    const origin = `https://127.0.0.1:${port}`;
    const c = await openConsole(browser, `${origin}/console/#/vm/${id}`, undefined, {
      ignoreHTTPSErrors: true, // the test PKI's CA is not the browser's
      clientCertificates: [{ origin, certPath: pki.file('client.pem'), keyPath: pki.file('client.key') }],
    });
    await c.page.getByTestId('role').filter({ hasText: 'cocos-cli · reader' }).waitFor();
    const policy = c.page.getByTestId('policy');
    await policy.getByRole('cell', { name: digest }).waitFor();
    expect(await policy.getByRole('row').filter({ hasText: 'policy.measurement' }).textContent()).toContain(digest);
    const download = c.page.waitForEvent('download');
    await policy.getByRole('button', { name: 'Download CoRIM' }).click();
    expect((await download).suggestedFilename()).toBe(`${id}-attestation-policy.cbor`);
    expect(await c.page.getByRole('button', { name: 'Remove' }).count()).toBe(0);
    await clean(c);

    // A VM whose QEMU dies: its page shows the state and the exit reason.
    launcher.script({ exitAfterMs: 200 });
    const failed = (await t.manager.service.create(emptyCreateVmRequest())).id;
    await c.page.goto(`${origin}/console/#/vm/${failed}`);
    await c.page.getByTestId('vm-state').filter({ hasText: 'failed' }).waitFor();
    expect(await c.page.getByTestId('exit').textContent()).toMatch(/code 1/);
    await clean(c);
    await c.page.context().close();
  });
});
