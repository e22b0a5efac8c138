import { readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { credentials, Metadata, type Client, type ClientReadableStream } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { loadManagerProto } from '@cocos-manager/contract';
import { startManager, until, type CreatedVm, type RunningManager } from './harness.js';

// Several MiB past the 256 KiB backlogs and the sockets' own buffers (the stalled readers must be cut off), few enough for CI.
// A size, not a duration: on a loaded machine the guest floods as much, only slower.
const FLOOD_MIB = 8;

function rssMiB(pid: number): number {
  const kb = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** An SSE client that never reads: its socket stays paused once the response starts. */
async function stalledSseClient(port: number, vmId: string) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(`GET /events?vm=${vmId} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  socket.once('data', () => socket.pause());
  socket.on('error', () => undefined);
  return socket;
}

/** Counts the flood lines `n.i` an SSE client received, and says whether any is missing. */
function floodTally() {
  const seen = new Map<number, Set<number>>();
  return {
    add(line: string) {
      const m = /dev-guest: flood 0+ (\d+)\.(\d+)$/.exec(line);
      if (!m) return;
      const round = Number(m[1]);
      if (!seen.has(round)) seen.set(round, new Set());
      seen.get(round)?.add(Number(m[2]));
    },
    get lines() {
      let n = 0;
      for (const s of seen.values()) n += s.size;
      return n;
    },
    missing(): string[] {
      const rounds = [...seen.keys()].sort((a, b) => a - b);
      const out: string[] = [];
      for (let r = rounds[0] ?? 0; r <= (rounds.at(-1) ?? -1); r++) {
        for (let i = 1; i <= 10; i++) if (!seen.get(r)?.has(i)) out.push(`${r}.${i}`);
      }
      return out;
    },
  };
}

describe('slow stream readers while a guest floods its console (real QEMU)', () => {
  let m: RunningManager | null = null;
  afterAll(async () => {
    await m?.dispose();
  });

  it(
    `cuts off a stalled SSE and a stalled WatchEvents reader, keeps RSS bounded, and a normal reader misses nothing (${FLOOD_MIB} MiB flood)`,
    { timeout: 420_000 },
    async () => {
      m = await startManager('6550-6559', {
        MANAGER_QEMU_KERNEL_CMDLINE: `quiet console=null cocos.flood=${FLOOD_MIB}`,
        MANAGER_HTTP_STREAM_BACKLOG_BYTES: '256K',
        MANAGER_GRPC_STREAM_BACKLOG_BYTES: '256K',
        MANAGER_STOP_VMS_ON_EXIT: 'true',
        MANAGER_VM_POWERDOWN_TIMEOUT: '1s',
        MANAGER_LOG_LEVEL: 'info',
        // One log file for the whole flood, so the test can count every line the guest wrote.
        MANAGER_CONSOLE_LOG_SIZE: '512M',
      });
      const manager = m;
      const created = await manager.call<CreatedVm>('CreateVm', {});
      const id = created.cvm_id;

      // A normal SSE reader, reading everything.
      const normal = floodTally();
      const abort = new AbortController();
      const sse = fetch(`http://127.0.0.1:${manager.httpPort}/events?vm=${id}`, { signal: abort.signal })
        .then(async (res) => {
          const reader = res.body!.getReader();
          const decoder = new TextDecoder();
          let buffer = '';
          for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            buffer += decoder.decode(value, { stream: true });
            let end: number;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const block = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = /^data: (.*)$/m.exec(block)?.[1];
              if (data) normal.add((JSON.parse(data) as { line?: string }).line ?? '');
            }
          }
        })
        .catch(() => undefined);

      // The stalled ones: SSE on a paused socket, WatchEvents paused after its first message.
      const stalledSse = await stalledSseClient(manager.httpPort, id);
      const { ManagerService } = loadManagerProto();
      const client = new ManagerService(`127.0.0.1:${manager.grpcPort}`, credentials.createInsecure()) as Client &
        Record<string, (req: unknown, md: Metadata) => ClientReadableStream<unknown>>;
      const watch = client['WatchEvents']!({ vm_id: id, lifecycle_only: false }, new Metadata());
      let watchEnded: string | null = null;
      watch.once('data', () => watch.pause());
      watch.on('error', (err: Error & { code?: number }) => (watchEnded = `error ${err.code}`));
      watch.on('end', () => (watchEnded ??= 'end'));

      // RSS while the guest floods.
      const samples: number[] = [];
      const consoleLog = `${manager.runDir}/${id}/console.log`;
      const sampler = setInterval(() => samples.push(rssMiB(manager.pid)), 1000);
      try {
        await until(() => readFileSync(consoleLog, 'utf8').includes('dev-guest: flood done'), 300_000, 'the guest to finish its flood');
        const written = () =>
          readFileSync(consoleLog, 'utf8')
            .split('\n')
            .filter((l) => / flood 0+ \d+\.\d+/.test(l)).length;
        await until(() => normal.lines >= written(), 30_000, 'the normal reader to catch up').catch((err: Error) => {
          throw new Error(
            `${err.message}: got ${normal.lines} of ${written()} lines, ${normal.missing().length} missing (${normal.missing().slice(0, 5).join(' ')})`,
          );
        });
      } finally {
        clearInterval(sampler);
      }
      const floodLines = readFileSync(consoleLog, 'utf8')
        .split('\n')
        .filter((l) => / flood 0+ \d+\.\d+/.test(l)).length;
      const peak = Math.max(...samples);
      console.log(
        `flood: ${floodLines} console lines (${((floodLines * 200) / 1048576).toFixed(1)} MiB); manager RSS: start ${samples[0]?.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB, end ${samples.at(-1)?.toFixed(1)} MiB`,
      );

      // The normal reader got every line, in full rounds.
      expect(normal.missing()).toEqual([]);
      expect(normal.lines).toBe(floodLines);
      expect(floodLines).toBeGreaterThan(5000);
      // Both stalled readers were cut off and counted.
      const metrics = (await manager.http('GET', '/metrics')).text;
      expect(metrics).toMatch(/^manager_stream_clients_dropped_total\{transport="http",stream="events"\} [1-9]/m);
      expect(metrics).toMatch(/^manager_stream_clients_dropped_total\{transport="grpc",stream="WatchEvents"\} [1-9]/m);
      expect(watchEnded).not.toBeNull();
      // Memory stays bounded although two clients stopped reading a flood of tens of MiB.
      expect(peak).toBeLessThan((samples[0] ?? 0) + 150);

      abort.abort();
      await sse;
      stalledSse.destroy();
      client.close();
    },
  );
});
