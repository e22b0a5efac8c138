import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { AGENT_CHANNEL, CONFIG, LOGGER, METRICS, TRANSPORT, VM_SERVICE, type Transport } from '@cocos-manager/core';
import { Manager } from '@cocos-manager/core/internal';
import { CmClientTransport, type CmClientDeps } from '@cocos-manager/transport-cm-client';
import { defaultPlugins } from '../src/plugins.js';

const create = (env: Record<string, string>) => Manager.create({ plugins: defaultPlugins, env, logger: pino({ level: 'silent' }) });
const depsOf = (t: Transport) => (t as unknown as { deps: CmClientDeps }).deps;

describe('the Computation Management client in the default build', () => {
  it('is off by default: the transports are the server ones', () => {
    expect(
      create({})
        .transports()
        .map((t) => t.name),
    ).toEqual(['grpc', 'http']);
  });

  it('on: a third transport, wired to the VM service, config, logger, metrics and the agent channel plugin', () => {
    const manager = create({ MANAGER_CM_CLIENT_ENABLE: 'true', MANAGER_AGENT_CHANNEL: 'virtio-serial' });
    const transports = manager.container.resolveAll<Transport>(TRANSPORT);
    expect(transports.map((t) => t.name)).toEqual(['grpc', 'http', 'cm-client']);
    const client = transports[2]!;
    expect(client).toBeInstanceOf(CmClientTransport);
    const deps = depsOf(client);
    expect(deps.vms).toBe(manager.container.resolve(VM_SERVICE));
    expect(deps.config).toBe(manager.container.resolve(CONFIG));
    expect(deps.logger).toBe(manager.container.resolve(LOGGER));
    expect(deps.metrics).toBe(manager.container.resolve(METRICS));
    expect(deps.channel).toBe(manager.container.resolve(AGENT_CHANNEL));
    expect(deps.channel?.enabled).toBe(true);
  });

  it("its variables and the gRPC server's load side by side: no name is declared twice", () => {
    const settings = create({ MANAGER_CM_CLIENT_ENABLE: 'true' }).config.settings();
    const owners = Object.fromEntries(settings.map((s) => [s.env, s.owner]));
    expect(owners).toMatchObject({
      MANAGER_GRPC_URL: '@cocos-manager/transport-cm-client',
      MANAGER_GRPC_CLIENT_CERT: '@cocos-manager/transport-cm-client',
      MANAGER_GRPC_CLIENT_KEY: '@cocos-manager/transport-cm-client',
      MANAGER_CM_SERVER_CA_CERTS: '@cocos-manager/transport-cm-client',
      MANAGER_CM_TIMEOUT: '@cocos-manager/transport-cm-client',
      MANAGER_GRPC_SERVER_CA_CERTS: '@cocos-manager/transport-grpc',
      MANAGER_GRPC_TIMEOUT: '@cocos-manager/transport-grpc',
    });
  });
});
