import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEventsLogs } from '@cocos-manager/contract';
import { AGENT_CHANNEL, emptyCreateVmRequest, type AgentChannel } from '@cocos-manager/core';
import type { Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '@cocos-manager/testing';
import { agentSocketDir, cidSocketPath, encodeFrame, VSOCK_BRIDGE_SCRIPT } from '../src/index.js';
import { channelTestDirs, startChannelManager } from './channel-manager.js';

/**
 * The vsock channel without a vsock device (this host has no vhost_vsock):
 * socat is a script that records how it was run, so what the manager runs —
 * the bridge, the manifest hand-off — is checked exactly; the per-CID socket
 * the bridge relays to is a real Unix socket.
 */
let dirs: ReturnType<typeof channelTestDirs>;
let manager: Manager | undefined;

afterEach(async () => {
  await manager?.stop({ removeVms: true });
  manager = undefined;
  dirs.remove();
});

function fakeSocat(dir: string) {
  const script = path.join(dir, 'socat');
  const calls = path.join(dir, 'socat-calls');
  // The bridge form exits at once (as socat does without vhost_vsock); the manifest form keeps its stdin.
  writeFileSync(script, `#!/bin/sh\necho "$*" >> ${calls}\nif [ "$1" = -u ]; then cat > ${dir}/manifest-$$; exit 0; fi\necho "no vsock here" >&2\nexit 1\n`);
  chmodSync(script, 0o755);
  const read = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);
  return { script, read };
}

const until = async (check: () => boolean, what: string, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('vsock channel wiring (fake socat)', () => {
  it('runs the bridge with the first vsock VM and again when it ends; listens on the VM’s cid socket; hands the manifest to CID:9999', async () => {
    dirs = channelTestDirs();
    const socat = fakeSocat(dirs.dir);
    manager = await startChannelManager(dirs, new FakeLauncher(), { MANAGER_AGENT_CHANNEL: 'vsock', MANAGER_AGENT_CHANNEL_SOCAT: socat.script });
    expect(socat.read()).toEqual([]); // nothing before a VM needs it
    const vm = await manager.service.create(emptyCreateVmRequest());
    const socketDir = agentSocketDir(manager.config);
    const bridge = `VSOCK-LISTEN:9997,fork,reuseaddr,max-children=256 EXEC:${VSOCK_BRIDGE_SCRIPT} ${socketDir} ${socat.script},nofork`;
    await until(() => socat.read().length >= 2, 'the bridge started again after it ended');
    expect(socat.read().slice(0, 2)).toEqual([bridge, bridge]);

    // What the relay would connect a vsock peer of CID 3 to: the VM's own socket, and it speaks for that VM.
    const socket = cidSocketPath(socketDir, 3);
    await until(() => existsSync(socket), 'the cid-3 socket');
    const agent = connect(socket);
    const acks: Buffer[] = [];
    agent.on('data', (b: Buffer) => acks.push(b));
    agent.write(encodeFrame(9, encodeEventsLogs({ agent_log: { message: 'over vsock', level: 'info' } })));
    await until(() => manager!.service.agentMessages(vm.id).length === 1, "the VM's message");
    expect(manager.service.agentMessages(vm.id)[0]).toMatchObject({ vmId: vm.id, message: { kind: 'log', message: 'over vsock' } });
    await until(() => Buffer.concat(acks).length === 4, 'the ack');
    expect(Buffer.concat(acks).readUInt32LE(0)).toBe(9);
    agent.destroy();

    const channel = manager.container.resolve<AgentChannel>(AGENT_CHANNEL);
    expect(channel.enabled).toBe(true);
    await channel.deliverManifest(vm.id, Buffer.from('{"id":"computation-1"}'));
    expect(socat.read()).toContain('-u STDIN VSOCK-CONNECT:3:9999');
    const written = readdirSync(dirs.dir).filter((f) => f.startsWith('manifest-'));
    expect(written.map((f) => readFileSync(path.join(dirs.dir, f), 'utf8'))).toEqual(['{"id":"computation-1"}']);

    await manager.service.remove(vm.id);
    await until(() => !existsSync(socket), 'the cid-3 socket removed with its VM');
    await expect(channel.deliverManifest(vm.id, Buffer.from('{}'))).rejects.toMatchObject({ kind: 'VM_NOT_FOUND' });
  });
});
