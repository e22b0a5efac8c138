import { credentials, Metadata, type ChannelCredentials, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { METRICS, PROCESS_LAUNCHER, TRANSPORT } from '@cocos-manager/core';
import { type PrometheusMetrics, type TokenOverride } from '@cocos-manager/core/internal';
import { createInertBackendPlugin, FakeLauncher, PLACEHOLDER_FILE, startTestManager, type TestManager } from '@cocos-manager/testing';
import { grpcTransportPlugin, loadManagerProto, type GrpcTransport } from '../src/index.js';

export interface GrpcTestManager extends TestManager {
  readonly port: number;
  readonly transport: GrpcTransport;
  readonly launcher: FakeLauncher;
  /** How many times the backend's prepare ran: CreateVm handlers that got past authentication. */
  readonly creates: () => number;
  /** The value of one Prometheus sample, 0 when absent. */
  metric(name: string, labels: Record<string, string>): Promise<number>;
}

/** A manager with the gRPC transport, the inert backend and fake QEMUs (CreateVm succeeds without QEMU). */
export async function startGrpcManager(env: Record<string, string> = {}, overrides: TokenOverride[] = []): Promise<GrpcTestManager> {
  let creates = 0;
  const launcher = new FakeLauncher();
  const plugin = createInertBackendPlugin({ prepare: async () => void creates++ });
  // Boot files only need to exist: the fake launcher runs nothing.
  const boot = PLACEHOLDER_FILE;
  const test = await startTestManager({
    plugins: [plugin, grpcTransportPlugin],
    env: { MANAGER_QEMU_DISK_IMG_KERNEL_FILE: boot, MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: boot, MANAGER_VM_START_TIMEOUT: '5s', ...env },
    overrides: [{ token: PROCESS_LAUNCHER, useValue: launcher }, ...overrides],
  });
  const transport = test.manager.container.resolveAll<GrpcTransport>(TRANSPORT).find((t) => t.name === 'grpc')!;
  const metrics = test.manager.container.resolve<PrometheusMetrics>(METRICS);
  return {
    ...test,
    port: transport.port(),
    transport,
    launcher,
    creates: () => creates,
    async metric(name, labels) {
      const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      for (const line of (await metrics.text()).split('\n')) {
        if (line.startsWith(`${name}{`) && wanted.every((w) => line.includes(w))) return Number(line.split(' ').pop());
      }
      return 0;
    },
  };
}

type Unary = (req: unknown, md: Metadata, options: { deadline: number }, cb: (err: ServiceError | null, res: unknown) => void) => void;
export type ManagerClient = Client & Record<string, Unary> & { WatchEvents(req: unknown, md: Metadata): ClientReadableStream<Record<string, unknown>> };

export function managerClient(
  address: string,
  creds: ChannelCredentials = credentials.createInsecure(),
  options: Record<string, string | number> = {},
): ManagerClient {
  const { ManagerService } = loadManagerProto();
  return new ManagerService(address, creds, options) as ManagerClient;
}

export function bearer(token: string | null): Metadata {
  const md = new Metadata();
  if (token !== null) md.set('authorization', `Bearer ${token}`);
  return md;
}

/** One unary call; resolves with the response or rejects with the ServiceError. */
export function call(client: ManagerClient, method: string, req: unknown, md = new Metadata(), ms = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => client[method]!(req, md, { deadline: Date.now() + ms }, (err, res) => (err ? reject(err) : resolve(res))));
}
