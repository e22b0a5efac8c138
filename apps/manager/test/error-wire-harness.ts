import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { PROCESS_LAUNCHER, TRANSPORT, type ManagerPlugin, type Transport } from '@cocos-manager/core';
import type { TokenOverride } from '@cocos-manager/core/internal';
import { loadManagerProto } from '@cocos-manager/contract';
import { createInertBackendPlugin, FakeLauncher, PLACEHOLDER_FILE, startTestManager, type TestManager } from '@cocos-manager/testing';
import { grpcTransportPlugin } from '@cocos-manager/transport-grpc';
import { httpTransportPlugin } from '@cocos-manager/transport-http';

type Call = (request: unknown, metadata: Metadata, callback: (err: ServiceError | null, response: unknown) => void) => void;

/** What a failed call carried: on gRPC its status, details and cocos-error-code; on HTTP its status and body. */
export interface WireFailure {
  readonly transport: 'grpc' | 'http';
  readonly status: number;
  readonly reason: string | undefined;
  readonly message: string;
}

/** A manager on both transports over real sockets (fake QEMU), and calls that return how they failed. */
export interface WireManager {
  readonly manager: TestManager;
  /** Settles when start() (re-adoption included) has finished. */
  readonly started: Promise<void>;
  readonly launcher: FakeLauncher;
  grpc(method: string, request?: unknown, metadata?: Record<string, string>): Promise<WireFailure>;
  grpcOk<T>(method: string, request?: unknown, metadata?: Record<string, string>): Promise<T>;
  http(method: string, url: string, options?: { body?: string; headers?: Record<string, string> }): Promise<WireFailure>;
  /** Opens a WatchEvents stream: how it failed (null while it runs); closed by stop(). */
  watch(): Promise<WireFailure | null>;
  /** A long-lived request (SSE) left open; closed by stop(). */
  openStream(url: string): Promise<number>;
  /** Closes the clients and stops the manager (its VMs removed unless `removeVms` is false). */
  stop(options?: { removeVms?: boolean }): Promise<void>;
  /** Closes the clients only (the test stops the manager itself). */
  close(): void;
}

const boot = PLACEHOLDER_FILE;

export interface WireOptions {
  readonly env?: Record<string, string>;
  readonly overrides?: readonly TokenOverride[];
  readonly plugins?: readonly ManagerPlugin[];
  readonly backend?: Parameters<typeof createInertBackendPlugin>[0];
  readonly launcher?: FakeLauncher;
  /** Serve before start() has finished (its re-adoption of saved VMs): the transports listen first. */
  readonly serveDuringStart?: boolean;
}

export async function startWireManager(options: WireOptions = {}): Promise<WireManager> {
  const launcher = options.launcher ?? new FakeLauncher();
  const manager = await startTestManager({
    plugins: [createInertBackendPlugin(options.backend), ...(options.plugins ?? []), grpcTransportPlugin, httpTransportPlugin],
    env: { MANAGER_QEMU_DISK_IMG_KERNEL_FILE: boot, MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: boot, MANAGER_HTTP_REST_WRITES: 'true', ...options.env },
    overrides: [{ token: PROCESS_LAUNCHER, useValue: launcher }, ...(options.overrides ?? [])],
    start: false,
  });
  const starting = manager.manager.start();
  if (!options.serveDuringStart) await starting;
  const transports = manager.manager.container.resolveAll<Transport & { port(): number }>(TRANSPORT);
  const listening = () =>
    transports.every((t) => {
      try {
        return t.port() > 0;
      } catch {
        return false;
      }
    });
  while (!listening()) await new Promise((r) => setTimeout(r, 5));
  const { ManagerService } = loadManagerProto();
  const client = new ManagerService(`127.0.0.1:${transports.find((t) => t.name === 'grpc')!.port()}`, credentials.createInsecure()) as Client &
    Record<string, Call>;
  const httpPort = transports.find((t) => t.name === 'http')!.port();
  const streams: http.ClientRequest[] = [];

  const rawGrpc = (method: string, request: unknown, metadata: Record<string, string>) =>
    new Promise<{ err: ServiceError | null; response: unknown }>((resolve) => {
      const md = new Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      client[method]!(request, md, (err, response) => resolve({ err, response }));
    });

  return {
    manager,
    started: starting.then(() => undefined),
    launcher,
    async grpc(method, request = {}, metadata = {}) {
      const { err } = await rawGrpc(method, request, metadata);
      if (!err) throw new Error(`gRPC ${method} succeeded; a failure was expected`);
      const reason = err.metadata?.get('cocos-error-code')[0];
      return { transport: 'grpc', status: err.code, reason: reason === undefined ? undefined : String(reason), message: err.details };
    },
    async grpcOk<T>(method: string, request: unknown = {}, metadata: Record<string, string> = {}) {
      const { err, response } = await rawGrpc(method, request, metadata);
      if (err) throw err;
      return response as T;
    },
    async http(method, url, options = {}) {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: httpPort, method, path: url, headers: options.headers ?? {} }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        req.end(options.body);
      });
      if (status < 400) throw new Error(`HTTP ${method} ${url} answered ${status}; a failure was expected`);
      const parsed = JSON.parse(body) as { error: { reason?: string; message: string } };
      return { transport: 'http', status, reason: parsed.error.reason, message: parsed.error.message };
    },
    watch() {
      const stream = (client as unknown as Record<string, (req: unknown) => NodeJS.EventEmitter & { cancel(): void }>)['WatchEvents']!({});
      streams.push({ destroy: () => stream.cancel() } as unknown as http.ClientRequest);
      return new Promise((resolve) => {
        stream.on('error', (err: ServiceError) => {
          const reason = err.metadata?.get('cocos-error-code')[0];
          resolve({ transport: 'grpc', status: err.code, reason: reason === undefined ? undefined : String(reason), message: err.details });
        });
        stream.on('metadata', () => resolve(null));
        setTimeout(() => resolve(null), 500);
      });
    },
    openStream(url) {
      return new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: httpPort, path: url }, (res) => resolve(res.statusCode ?? 0));
        req.on('error', () => undefined);
        req.on('timeout', reject);
        streams.push(req);
      });
    },
    close() {
      for (const s of streams) s.destroy();
      client.close();
    },
    async stop(stopOptions) {
      for (const s of streams) s.destroy();
      client.close();
      await starting.catch(() => undefined);
      await manager.stop(stopOptions);
    },
  };
}

/** A fresh directory for a test's own files (a state dir over a faulty filesystem, a token file). */
export function scratchDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-wire-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
