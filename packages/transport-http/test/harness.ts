import http from 'node:http';
import https from 'node:https';
import { METRICS, PROCESS_LAUNCHER, TRANSPORT, VM_SERVICE, type ManagerMetrics, type VmApi } from '@cocos-manager/core';
import { type TokenOverride } from '@cocos-manager/core/internal';
import { createInertBackendPlugin, FakeLauncher, PLACEHOLDER_FILE, startTestManager, type TestManager } from '@cocos-manager/testing';
import { httpTransportPlugin, type HttpTransport } from '../src/index.js';

/** A started manager with the HTTP transport, the inert backend and a fake QEMU launcher: creates succeed in milliseconds. */
export interface HttpManager {
  readonly test: TestManager;
  readonly port: number;
  readonly service: VmApi;
  readonly launcher: FakeLauncher;
  metricsText(): Promise<string>;
  stop(): Promise<void>;
}

// RAM boot wants readable kernel and initramfs files; the fake launcher never reads them.
const anyFile = PLACEHOLDER_FILE;

export async function startHttpManager(env: Record<string, string> = {}, overrides: TokenOverride[] = []): Promise<HttpManager> {
  const launcher = new FakeLauncher();
  const test = await startTestManager({
    plugins: [createInertBackendPlugin(), httpTransportPlugin],
    env: { MANAGER_QEMU_DISK_IMG_KERNEL_FILE: anyFile, MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: anyFile, ...env },
    overrides: [{ token: PROCESS_LAUNCHER, useValue: launcher }, ...overrides],
  });
  const c = test.manager.container;
  return {
    test,
    launcher,
    port: c.resolveAll<HttpTransport>(TRANSPORT)[0]!.port(),
    service: c.resolve<VmApi>(VM_SERVICE),
    metricsText: () => c.resolve<ManagerMetrics>(METRICS).text(),
    stop: () => test.stop(),
  };
}

export interface RawResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface RawRequest {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Connect to this address (default 127.0.0.1). */
  readonly host?: string;
  /** HTTPS with these client options. */
  readonly tls?: https.RequestOptions;
}

/** One request with exactly the headers given (Host and Origin included, which fetch would not let us set). */
export function request(port: number, r: RawRequest = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const options: http.RequestOptions = {
      host: r.host ?? '127.0.0.1',
      port,
      method: r.method ?? 'GET',
      path: r.path ?? '/',
      headers: { host: `localhost:${port}`, ...r.headers },
      agent: false,
      ...r.tls,
    };
    const req = (r.tls ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

/** The value of a Prometheus sample, 0 when absent. */
export function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}
