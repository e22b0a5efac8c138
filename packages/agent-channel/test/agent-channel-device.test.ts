import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest } from '@cocos-manager/core';
import { type Manager } from '@cocos-manager/core/internal';
import { FakeLauncher } from '@cocos-manager/testing';
import { channelTestDirs, startChannelManager } from './channel-manager.js';

const VSOCK = { MANAGER_AGENT_CHANNEL: 'vsock' };
/** The guest CIDs in one QEMU argv. */
const cidsIn = (argv: readonly string[]) => argv.filter((a) => a.startsWith('vhost-vsock-pci,')).map((a) => /guest-cid=(\d+)/.exec(a)?.[1]);
/** What a VM records of the channel in its state file. */
const recorded = (dirs: ReturnType<typeof channelTestDirs>, id: string) =>
  (JSON.parse(readFileSync(path.join(dirs.state, `${id}.json`), 'utf8')) as { devices: unknown[] }).devices;
const eventually = async (check: () => Promise<boolean> | boolean) => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
};

let dirs: ReturnType<typeof channelTestDirs>;
let manager: Manager | null = null;
afterEach(async () => {
  await manager?.stop({ removeVms: true });
  manager = null;
  dirs?.remove();
});

describe('MANAGER_AGENT_CHANNEL=off (the default)', () => {
  it('gives VMs nothing: the argv is the one a manager without the plugin builds', async () => {
    dirs = channelTestDirs();
    const without = await startChannelManager(dirs, new FakeLauncher(), {}, []);
    const bare = await without.service.previewArgv();
    await without.stop({ removeVms: true });
    const launcher = new FakeLauncher();
    manager = await startChannelManager(dirs, launcher, {});
    expect(await manager.service.previewArgv()).toEqual(bare);
    const vm = await manager.service.create(emptyCreateVmRequest());
    expect(launcher.processes[0]!.argv.some((a) => /vsock|virtserial|virtio-serial|chardev/.test(a))).toBe(false);
    expect(recorded(dirs, vm.id)).toEqual([]);
  });

  it('refuses a mode it does not know, naming the variable and the choices', async () => {
    dirs = channelTestDirs();
    await expect(startChannelManager(dirs, new FakeLauncher(), { MANAGER_AGENT_CHANNEL: 'tcp' })).rejects.toThrow(
      'MANAGER_AGENT_CHANNEL="tcp": expected one of off, vsock, virtio-serial',
    );
  });
});

describe('start-up checks of the channel sockets', () => {
  it('virtio-serial: a MANAGER_RUN_DIR whose VM sockets would not fit a sockaddr_un stops start-up, naming it', async () => {
    dirs = channelTestDirs();
    const runDir = path.join(dirs.dir, 'r'.repeat(55 - dirs.dir.length - 1));
    await expect(startChannelManager(dirs, new FakeLauncher(), { MANAGER_AGENT_CHANNEL: 'virtio-serial', MANAGER_RUN_DIR: runDir })).rejects.toThrow(
      `MANAGER_RUN_DIR: MANAGER_AGENT_CHANNEL=virtio-serial needs Unix sockets such as ${runDir}/${'x'.repeat(36)}/agent-manifest.sock, 112 bytes; at most 107 are allowed`,
    );
    // The same directory is fine with the channel off.
    manager = await startChannelManager(dirs, new FakeLauncher(), { MANAGER_RUN_DIR: runDir });
  });

  it('vsock: a run directory socat would split, or a socat that is no program, stops start-up', async () => {
    dirs = channelTestDirs();
    await expect(startChannelManager(dirs, new FakeLauncher(), { ...VSOCK, MANAGER_RUN_DIR: path.join(dirs.dir, 'run,fork') })).rejects.toThrow(
      `MANAGER_RUN_DIR (its agent-channel directory) "${dirs.dir}/run,fork/agent-channel": the vsock bridge needs an absolute path of letters, digits and . _ + - / only`,
    );
    await expect(startChannelManager(dirs, new FakeLauncher(), { ...VSOCK, MANAGER_AGENT_CHANNEL_SOCAT: 'socat -v' })).rejects.toThrow(
      'MANAGER_AGENT_CHANNEL_SOCAT "socat -v" is neither a safe absolute path nor a program name',
    );
  });
});

describe('guest CIDs (MANAGER_AGENT_CHANNEL=vsock, fake launcher)', () => {
  it('each VM gets the lowest free CID from 3; a removed VM frees its CID for the next create', async () => {
    dirs = channelTestDirs();
    const launcher = new FakeLauncher();
    manager = await startChannelManager(dirs, launcher, VSOCK);
    const a = await manager.service.create(emptyCreateVmRequest());
    const b = await manager.service.create(emptyCreateVmRequest());
    const c = await manager.service.create(emptyCreateVmRequest());
    expect(launcher.processes.map((p) => cidsIn(p.argv))).toEqual([['3'], ['4'], ['5']]);
    expect(launcher.processes[0]!.argv).toContain('vhost-vsock-pci,id=vhost-vsock-pci0,guest-cid=3');
    expect(recorded(dirs, a.id)).toEqual([{ device: 'agent-channel', values: { transport: 'vsock', cid: '3' } }]);

    await manager.service.remove(b.id);
    await manager.service.create(emptyCreateVmRequest());
    expect(cidsIn(launcher.processes[3]!.argv)).toEqual(['4']);
    await manager.service.remove(a.id);
    await manager.service.remove(c.id);
    await manager.service.create(emptyCreateVmRequest());
    expect(cidsIn(launcher.processes[4]!.argv)).toEqual(['3']);
  });

  it('a VM whose QEMU dies frees its CID; a create that fails after taking one gives it back', async () => {
    dirs = channelTestDirs();
    const launcher = new FakeLauncher();
    manager = await startChannelManager(dirs, launcher, VSOCK);
    const vm = await manager.service.create(emptyCreateVmRequest());
    launcher.processes[0]!.exit({ signal: 'SIGKILL' });
    const m = manager;
    await eventually(async () => (await m.service.get(vm.id)).state === 'failed');
    await manager.service.create(emptyCreateVmRequest());
    expect(cidsIn(launcher.processes[1]!.argv)).toEqual(['3']);

    launcher.script({ spawnFails: true });
    await expect(manager.service.create(emptyCreateVmRequest())).rejects.toThrow(/starting QEMU failed/);
    await manager.service.create(emptyCreateVmRequest());
    expect(cidsIn(launcher.processes.at(-1)!.argv)).toEqual(['4']);
  });

  it('MANAGER_QEMU_VSOCK_GUEST_CID and MANAGER_QEMU_VSOCK_ID set the first CID and the device id', async () => {
    dirs = channelTestDirs();
    const launcher = new FakeLauncher();
    manager = await startChannelManager(dirs, launcher, { ...VSOCK, MANAGER_QEMU_VSOCK_GUEST_CID: '100', MANAGER_QEMU_VSOCK_ID: 'vsock0' });
    expect(await manager.service.previewArgv()).toContain('vhost-vsock-pci,id=vsock0,guest-cid=100');
    await manager.service.create(emptyCreateVmRequest());
    expect(launcher.processes[0]!.argv).toContain('vhost-vsock-pci,id=vsock0,guest-cid=100');
    const refused = channelTestDirs();
    try {
      await expect(startChannelManager(refused, new FakeLauncher(), { ...VSOCK, MANAGER_QEMU_VSOCK_GUEST_CID: '2' })).rejects.toThrow(
        'MANAGER_QEMU_VSOCK_GUEST_CID="2": expected an integer between 3 and 4294967294',
      );
    } finally {
      refused.remove();
    }
  });

  it('the preview shows the CID the next VM would get, reserving none', async () => {
    dirs = channelTestDirs();
    const launcher = new FakeLauncher();
    manager = await startChannelManager(dirs, launcher, VSOCK);
    await manager.service.create(emptyCreateVmRequest());
    expect(cidsIn(await manager.service.previewArgv())).toEqual(['4']);
    expect(cidsIn(await manager.service.previewArgv())).toEqual(['4']);
    await manager.service.create(emptyCreateVmRequest());
    expect(cidsIn(launcher.processes[1]!.argv)).toEqual(['4']);
  });
});

describe('guest CIDs across a manager restart (fake launcher)', () => {
  it('re-adopted VMs keep their CIDs, a VM that died meanwhile frees its own, new VMs get the lowest free', async () => {
    dirs = channelTestDirs();
    const launcher = new FakeLauncher();
    const first = await startChannelManager(dirs, launcher, VSOCK);
    const three = await first.service.create(emptyCreateVmRequest());
    const four = await first.service.create(emptyCreateVmRequest());
    const five = await first.service.create(emptyCreateVmRequest());
    await first.stop({ removeVms: false });
    launcher.processes[1]!.exit({ signal: 'SIGKILL' }); // CID 4's VM dies while no manager runs

    manager = await startChannelManager(dirs, launcher, VSOCK);
    await manager.service.ready();
    expect(await manager.service.get(three.id)).toMatchObject({ state: 'running', adopted: true });
    expect(await manager.service.get(five.id)).toMatchObject({ state: 'running', adopted: true });
    expect(await manager.service.get(four.id)).toMatchObject({ state: 'failed', devices: [] });
    await manager.service.create(emptyCreateVmRequest());
    await manager.service.create(emptyCreateVmRequest());
    expect(launcher.processes.slice(3).map((p) => cidsIn(p.argv))).toEqual([['4'], ['6']]);
  });

  it('a re-adopted VM keeps its CID even when the restarted manager runs with the channel off', async () => {
    dirs = channelTestDirs();
    const launcher = new FakeLauncher();
    const first = await startChannelManager(dirs, launcher, VSOCK);
    const vm = await first.service.create(emptyCreateVmRequest());
    await first.stop({ removeVms: false });

    manager = await startChannelManager(dirs, launcher, { MANAGER_AGENT_CHANNEL: 'off' });
    await manager.service.ready();
    expect(await manager.service.get(vm.id)).toMatchObject({
      state: 'running',
      devices: [{ device: 'agent-channel', values: { transport: 'vsock', cid: '3' } }],
    });
    // Removing it releases CID 3 through the assignment it recorded (nothing to see but no error).
    await manager.service.remove(vm.id);
  });
});

describe('MANAGER_AGENT_CHANNEL=virtio-serial (golden argv)', () => {
  it('adds the serial bus and two named ports on Unix sockets of the VM directory, after the disks and before the TEE', async () => {
    dirs = channelTestDirs();
    const launcher = new FakeLauncher();
    manager = await startChannelManager(dirs, launcher, { MANAGER_AGENT_CHANNEL: 'virtio-serial' });
    const vm = await manager.service.create(emptyCreateVmRequest());
    const argv = launcher.processes[0]!.argv;
    const vmDir = path.join(dirs.run, vm.id);
    const first = argv.indexOf('virtio-serial-pci,id=agent-serial0');
    expect(first).toBeGreaterThan(0);
    expect(argv.slice(first - 1, first + 9)).toEqual([
      '-device',
      'virtio-serial-pci,id=agent-serial0',
      '-chardev',
      `socket,id=agent-manifest,path=${vmDir}/agent-manifest.sock,server=on,wait=off`,
      '-device',
      'virtserialport,bus=agent-serial0.0,chardev=agent-manifest,name=cocos.manifest',
      '-chardev',
      `socket,id=agent-events,path=${vmDir}/agent-events.sock,server=on,wait=off`,
      '-device',
      'virtserialport,bus=agent-serial0.0,chardev=agent-events,name=cocos.events',
    ]);
    expect(argv.some((a) => a.startsWith('vhost-vsock-pci'))).toBe(false);
    expect(recorded(dirs, vm.id)).toEqual([{ device: 'agent-channel', values: { transport: 'virtio-serial' } }]);
  });
});
