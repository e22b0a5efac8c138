import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { emptyCreateVmRequest, QemuCommand, VmContext } from '@cocos-manager/core';
import { devGuest, waitForDevGuest } from '@cocos-manager/testing';
import {
  AgentSocketConnector,
  ChannelCounters,
  VIRTIO_SERIAL,
  virtioSerialElements,
  type AgentEventMessage,
  type AgentLogMessage,
  type AgentMessage,
  type ConnectionEnd,
  type FrameRejected,
} from '../src/index.js';
import { deliverManifest } from '../src/manifest-delivery.js';

/**
 * The dev guest (tools/dev-guest: its agent-stub) on the agent channel over
 * virtio-serial, with real QEMU under TCG: the manager's end of the events
 * port (AgentSocketConnector) and manifest delivery, against the guest's
 * agent. Every wait is for a condition, with a deadline far above a slow
 * machine's boot (about 10 s here); nothing depends on how fast it runs.
 */

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const GUEST = devGuest(path.join(REPO, 'build/dev-guest'));
const DEADLINE_MS = 120_000;
const logger = pino({ level: 'silent' });

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

interface BootedGuest {
  readonly id: string;
  readonly dir: string;
  readonly port: number;
  readonly qemu: ChildProcess;
  readonly eventsSocket: string;
  readonly manifestSocket: string;
  /** What the guest wrote to its serial port so far. */
  console(): string;
}

const booted: BootedGuest[] = [];
const connectors: AgentSocketConnector[] = [];

/** Boots the dev guest as the manager would with MANAGER_AGENT_CHANNEL=virtio-serial: RAM boot, user networking, its environment share, the channel's elements. */
async function bootDevGuest(extraCommandLine: string): Promise<BootedGuest> {
  // Short: the channel's socket paths must fit a sockaddr_un.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cacq-'));
  const id = randomUUID();
  const port = await freePort();
  mkdirSync(path.join(dir, 'env'));
  writeFileSync(path.join(dir, 'env', 'environment'), `AGENT_CVM_ID=${id}\n`);
  const vm = new VmContext(id, dir, port, emptyCreateVmRequest(), 'quiet console=null');
  const channel = new QemuCommand('qemu-system-x86_64').add(...virtioSerialElements(vm)).args();
  const consoleLog = path.join(dir, 'console.log');
  const args = [
    ...['-accel', 'tcg', '-machine', 'q35', '-smp', '1', '-m', '256M', '-nodefaults', '-display', 'none', '-no-reboot'],
    ...['-serial', `file:${consoleLog}`],
    ...['-kernel', GUEST.kernel, '-initrd', GUEST.initramfs, '-append', `quiet console=null ${extraCommandLine}`.trim()],
    ...['-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${port}-:7002`, '-device', 'virtio-net-pci,netdev=net0,romfile='],
    ...['-fsdev', `local,id=env_fs,path=${dir}/env,security_model=mapped,readonly=on`, '-device', 'virtio-9p-pci,fsdev=env_fs,mount_tag=env_share'],
    ...channel,
  ];
  const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-65536);
  });
  const guest: BootedGuest = {
    id,
    dir,
    port,
    qemu,
    eventsSocket: vm.file(VIRTIO_SERIAL.events.socket),
    manifestSocket: vm.file(VIRTIO_SERIAL.manifest.socket),
    console: () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '') + (stderr ? `\n[qemu stderr]\n${stderr}` : ''),
  };
  booted.push(guest);
  return guest;
}

afterEach(async () => {
  for (const c of connectors.splice(0)) c.stop();
  for (const g of booted.splice(0)) {
    if (g.qemu.exitCode === null && g.qemu.signalCode === null) {
      const exited = new Promise((resolve) => g.qemu.once('exit', resolve));
      g.qemu.kill('SIGKILL');
      await exited;
    }
    rmSync(g.dir, { recursive: true, force: true });
  }
});

/** Waits for `check`, polling; on the deadline fails with what the guest printed. */
async function until(guest: BootedGuest, what: string, check: () => boolean | Promise<boolean>, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (guest.qemu.exitCode !== null || guest.qemu.signalCode !== null)
      throw new Error(`QEMU exited (${guest.qemu.exitCode ?? guest.qemu.signalCode}) waiting for ${what}:\n${guest.console()}`);
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the guest's console:\n${guest.console()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The agent page (KEY=VALUE lines) through the forwarded port, or null while it does not answer. */
async function agentPage(port: number): Promise<Record<string, string[]> | null> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) return null;
    const page: Record<string, string[]> = {};
    for (const line of (await res.text()).split('\n').filter((l) => l.includes('='))) {
      const key = line.slice(0, line.indexOf('='));
      (page[key] ??= []).push(line.slice(line.indexOf('=') + 1));
    }
    return page;
  } catch {
    return null;
  }
}

/** The manager's end of the guest's events port, recording what it delivers (the flood's logs only counted). */
function connect(guest: BootedGuest) {
  const counters = new ChannelCounters();
  const seen = { messages: [] as AgentMessage[], flood: 0, ends: [] as ConnectionEnd[], rejected: [] as FrameRejected[] };
  const connector = new AgentSocketConnector(
    guest.eventsSocket,
    guest.id,
    {
      onMessage: (m) => {
        if (m.kind === 'log' && m.message === 'dev-guest agent flood') seen.flood++;
        else seen.messages.push(m);
      },
      onRejected: (r) => seen.rejected.push(r),
      onEnd: (e) => seen.ends.push(e),
    },
    { counters, logger, retryMs: 100, maxBackoffMs: 1600 },
  );
  connectors.push(connector);
  connector.start();
  const events = () => seen.messages.filter((m): m is AgentEventMessage => m.kind === 'event');
  const logs = () => seen.messages.filter((m): m is AgentLogMessage => m.kind === 'log');
  return { counters, seen, connector, events, logs };
}

const DAY_MS = 24 * 3600 * 1000;

describe('the dev guest on the agent channel over virtio-serial (real QEMU, TCG)', { timeout: 300_000 }, () => {
  it('sends its boot event and log, acknowledged; takes a manifest, publishes its id on the agent page and reports it', async () => {
    const guest = await bootDevGuest('');
    const { counters, events, logs } = connect(guest);

    await until(
      guest,
      'the boot event and log',
      () => events().some((e) => e.eventType === 'agent-start') && logs().some((l) => l.message === 'dev-guest agent started'),
    );
    const start = events().find((e) => e.eventType === 'agent-start')!;
    expect(start).toMatchObject({ kind: 'event', computationId: '', status: 'ready', originator: 'agent' });
    expect(JSON.parse(start.details.toString())).toEqual({ agent: 'cocos-manager dev guest', manifest_port: 'cocos.manifest' });
    // The guest's clock is the host's (QEMU's RTC): a real time, not a default.
    expect(Math.abs(start.timestamp!.getTime() - Date.now())).toBeLessThan(DAY_MS);
    const started = logs().find((l) => l.message === 'dev-guest agent started')!;
    expect(started).toMatchObject({ kind: 'log', computationId: '', level: 'info' });
    expect(Math.abs(started.timestamp!.getTime() - Date.now())).toBeLessThan(DAY_MS);
    // Acknowledged: the guest says so once it read each frame's id back.
    await until(guest, 'the guest to read both acknowledgements', () => {
      const out = guest.console();
      return (
        out.includes('dev-guest: agent sent event agent-start/ready as frame 1; acknowledged') &&
        out.includes('dev-guest: agent sent log (info) as frame 2; acknowledged')
      );
    });
    expect(counters.snapshot()).toMatchObject({ connections: 1, connectionsCut: 0, rejected: { oversized: 0, malformed: 0, flood: 0 } });
    expect(counters.snapshot().frames).toBeGreaterThanOrEqual(2);

    // The agent page answers (the guest's network and its environment share), no manifest yet.
    const before = await waitForDevGuest(guest.port, DEADLINE_MS);
    expect(before['AGENT_CVM_ID']).toBe(guest.id);
    expect(before['MANIFEST_ID']).toBeUndefined();

    // The manifest, as Computation Management's run request would give it: nested ids are not the computation's.
    const computationId = randomUUID();
    const manifest = {
      id: computationId,
      name: 'dev-guest hand-off',
      description: 'a computation manifest written once to the manifest port',
      datasets: [{ id: 'dataset-1', hash: 'ab'.repeat(32), filename: 'data.csv' }],
      algorithm: { id: 'algorithm-1', hash: 'cd'.repeat(32), type: 'python' },
      result_consumers: [{ userKey: 'key' }],
      agent_config: { port: '7002', log_level: 'info' },
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    await deliverManifest(guest.manifestSocket, bytes, { timeoutMs: DEADLINE_MS });

    let page: Record<string, string[]> | null = null;
    await until(guest, 'MANIFEST_ID on the agent page', async () => {
      page = await agentPage(guest.port);
      return page?.['MANIFEST_ID'] !== undefined;
    });
    expect(page!['MANIFEST_ID']).toEqual([computationId]);
    expect(page!['AGENT_CVM_ID']).toEqual([guest.id]);

    await until(
      guest,
      'the computation-received event and log',
      () => events().some((e) => e.eventType === 'computation-received') && logs().some((l) => l.computationId === computationId),
    );
    const received = events().find((e) => e.eventType === 'computation-received')!;
    expect(received).toMatchObject({ computationId, status: 'received', originator: 'agent' });
    expect(JSON.parse(received.details.toString())).toEqual({ manifest_bytes: bytes.length });
    const receivedLog = logs().find((l) => l.computationId === computationId)!;
    expect(receivedLog.level).toBe('info');
    expect(receivedLog.message).toBe(`dev-guest agent received the manifest of computation ${computationId} (${bytes.length} bytes)`);
    expect(counters.snapshot()).toMatchObject({ connections: 1, connectionsCut: 0, rejected: { oversized: 0, malformed: 0, flood: 0 } });
  });

  it('a guest sending malformed, oversized and flooding frames is cut off and counted; the host connects again and takes its next good event', async () => {
    const guest = await bootDevGuest('cocos.agentattack=all');
    const { counters, seen, connector, events, logs } = connect(guest);

    await until(guest, 'the event after the attacks', () => events().some((e) => e.eventType === 'agent-attack'));
    const done = events().find((e) => e.eventType === 'agent-attack')!;
    expect(done).toMatchObject({ computationId: '', status: 'done', originator: 'agent' });
    expect(JSON.parse(done.details.toString())).toEqual({ attacks: 'malformed,oversized,flood' });

    const counts = counters.snapshot();
    // Four malformed payloads (not protobuf, empty, truncated, a 20000-byte message): dropped, the connection kept.
    expect(counts.rejected.malformed).toBeGreaterThanOrEqual(4);
    // The header announcing 1 MiB + 1 bytes, and the flood: each cut its connection off.
    expect(counts.rejected.oversized).toBeGreaterThanOrEqual(1);
    expect(counts.rejected.flood).toBeGreaterThanOrEqual(1);
    expect(counts.connectionsCut).toBe(counts.rejected.oversized + counts.rejected.flood);
    expect(seen.ends.filter((e) => e === 'cut').length).toBe(counts.connectionsCut);
    expect(seen.rejected.map((r) => r.rejectReason)).toEqual(expect.arrayContaining(['malformed', 'oversized', 'flood']));
    // After each cut the host connected again (with its backoff) and the guest's next good frames came through.
    expect(counts.connections).toBe(counts.connectionsCut + 1);
    expect(logs().some((l) => l.message === 'dev-guest agent sent an oversized frame header; connected again')).toBe(true);
    // Nothing malformed was handed on: the over-bound log never became a message.
    expect(logs().every((l) => l.message.length <= 16 * 1024)).toBe(true);
    // The flood's frames before the cut were taken; the rest were refused with the connection.
    expect(seen.flood).toBeGreaterThan(0);
    expect(seen.flood).toBeLessThan(400_000);

    // Nothing crashed: QEMU runs, the guest answers on its agent page, the channel is connected.
    expect(guest.qemu.exitCode).toBeNull();
    await until(guest, 'the agent page after the attacks', async () => (await agentPage(guest.port))?.['AGENT_CVM_ID']?.[0] === guest.id);
    await until(guest, 'the channel connected again', () => connector.connected);
    expect(guest.console()).toContain('dev-guest: agent sent event agent-attack/done as frame');
  });
});
