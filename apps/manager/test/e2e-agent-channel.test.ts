import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManagerProto, type VmStreamEvent } from '@cocos-manager/contract';
import { rssKiB, startManager, until, waitForGuest, type CreatedVm, type RunningManager } from './harness.js';

/**
 * The agent channel with the real manager binary, real QEMU (TCG) and the
 * dev guest over virtio-serial (MANAGER_AGENT_CHANNEL=virtio-serial): the
 * guest's agent stub sends its boot event and log, which reach SSE and
 * WatchEvents under its VM's id; a second guest attacks its channel
 * (cocos.agentattack, passed through its aa_kbs_params, which lands on its
 * kernel command line) — malformed, oversized, flooding frames — and is cut
 * off and counted while the first VM's channel goes on and the manager's
 * memory stays bounded.
 */
type AgentJson = Record<string, unknown> & { vmId: string; kind: string };

let m: RunningManager;
const sse: string[] = [];
const sseAbort = new AbortController();
const watched: VmStreamEvent[] = [];
let watch: ClientReadableStream<VmStreamEvent> | undefined;

const agentSse = (): AgentJson[] =>
  sse
    .join('')
    .split('\n\n')
    .filter((block) => block.startsWith('event: agent\n'))
    .map((block) => JSON.parse(block.slice(block.indexOf('data: ') + 6)) as AgentJson);

async function metric(pattern: RegExp): Promise<number> {
  const text = (await m.http('GET', '/metrics')).text;
  const match = pattern.exec(text);
  return match ? Number(match[1]) : 0;
}

beforeAll(async () => {
  m = await startManager('6830-6834', { MANAGER_AGENT_CHANNEL: 'virtio-serial', MANAGER_VM_POWERDOWN_TIMEOUT: '2s' });
  const res = await fetch(`http://127.0.0.1:${m.httpPort}/events?console=0`, { signal: sseAbort.signal });
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) sse.push(decoder.decode(chunk, { stream: true }));
  })().catch(() => undefined);
  const { ManagerService } = loadManagerProto();
  const client = new ManagerService(`127.0.0.1:${m.grpcPort}`, credentials.createInsecure());
  watch = (client as unknown as { WatchEvents(req: object): ClientReadableStream<VmStreamEvent> }).WatchEvents({ vm_id: '', lifecycle_only: false });
  watch.on('data', (e: VmStreamEvent) => watched.push(e));
  watch.on('error', () => undefined);
}, 60_000);

afterAll(async () => {
  sseAbort.abort();
  watch?.cancel();
  await m?.dispose();
});

describe('agent channel over virtio-serial (real QEMU, dev guest)', () => {
  it(
    "a hostile guest is cut off and counted while another guest's boot event and log reach SSE and WatchEvents; the manager stays bounded",
    { timeout: 420_000 },
    async () => {
      const rssBefore = rssKiB(m.pid);
      // The attacker first: its flood runs while the honest guest boots and speaks.
      const attacker = await m.call<CreatedVm>('CreateVm', { aa_kbs_params: 'cocos.agentattack=all' });
      const created = await m.call<CreatedVm>('CreateVm', {});
      const honest = created.cvm_id;

      await until(() => agentSse().filter((e) => e.vmId === honest).length >= 2, 300_000, "the honest guest's boot event and log in SSE");
      expect(agentSse().filter((e) => e.vmId === honest)).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'event', eventType: 'agent-start', status: 'ready', originator: 'agent' }),
          expect.objectContaining({ kind: 'log', level: 'info' }),
        ]),
      );
      await until(() => watched.filter((e) => e.kind === 'agent' && e.vm_id === honest).length >= 2, 30_000, 'the same in WatchEvents');
      const grpc = watched.filter((e) => e.kind === 'agent' && e.vm_id === honest);
      expect(grpc.map((e) => e.agent?.kind).sort()).toEqual(['event', 'log']);
      expect(grpc.find((e) => e.agent?.kind === 'event')?.agent?.event_type).toBe('agent-start');
      const history = (await m.http('GET', `/vms/${honest}/agent`)).json as { messages: AgentJson[] };
      expect(history.messages.filter((e) => e.kind === 'event').map((e) => e['eventType'])).toContain('agent-start');

      await until(async () => (await metric(/^manager_agent_frames_rejected_total\{reason="oversized"\} (\d+)/m)) >= 1, 300_000, 'the oversized frame refused');
      await until(async () => (await metric(/^manager_agent_frames_rejected_total\{reason="flood"\} (\d+)/m)) >= 1, 300_000, 'the flood cut off');
      expect(await metric(/^manager_agent_frames_rejected_total\{reason="malformed"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
      expect(await metric(/^manager_agent_connections_cut_total (\d+)/m)).toBeGreaterThanOrEqual(2);
      // Nothing of the attack is the honest VM's; the attacker's history is bounded whatever it sent.
      expect(
        agentSse()
          .filter((e) => e.vmId === honest)
          .every((e) => e['originator'] === 'agent' || e.kind === 'log'),
      ).toBe(true);
      const attacked = (await m.http('GET', `/vms/${attacker.cvm_id}/agent`)).json as { messages: AgentJson[] };
      expect(attacked.messages.length).toBeLessThanOrEqual(200);
      // The manager did not grow with the flood (two TCG guests and their streams cost it little).
      expect(rssKiB(m.pid) - rssBefore).toBeLessThan(96 * 1024);
      const vms = (await m.http('GET', '/vms')).json as { vms: { id: string; state: string }[] };
      expect(vms.vms.map((v) => v.state)).toEqual(['running', 'running']);
      await waitForGuest(Number(created.forwarded_port), 120_000);
    },
  );
});
