import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startManager, until, type CreatedVm, type RunningManager, type WireVm } from './harness.js';
import { freePort } from './free-port.js';

/**
 * The reset race: from inside a running dev guest, a program (race-probe)
 * writes a whole request — a gRPC CreateVm in the default configuration, a
 * POST /vms with REST writes on — and resets the connection 0–10 ms later,
 * before the manager has looked at it. QEMU's end of the connection is then
 * gone, so the guard cannot see who held it: it must refuse (fail closed),
 * and nothing may be created. The host still creates and lists.
 */

const TRIES = 120;

function refusals(metrics: string, transport: string): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    const m = new RegExp(`^manager_connections_refused_total\\{[^}]*transport="${transport}"[^}]*\\} (\\d+)`).exec(line);
    if (m?.[1]) total += Number(m[1]);
  }
  return total;
}

describe('a guest that writes a whole request and resets before it is read (real QEMU, race-probe in the dev guest)', () => {
  let m: RunningManager | null = null;
  afterAll(async () => {
    await m?.dispose();
  });

  it(`creates nothing over ${TRIES} tries on each port; the host still creates and lists`, async () => {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    m = await startManager('6580-6589', {
      MANAGER_GRPC_PORT: String(grpcPort),
      MANAGER_HTTP_PORT: String(httpPort),
      // Defaults otherwise: no authentication, both transports on localhost; REST writes on for POST /vms.
      MANAGER_HTTP_REST_WRITES: 'true',
      MANAGER_QEMU_KERNEL_CMDLINE: `console=ttyS0 cocos.race=${grpcPort},${httpPort},${TRIES}`,
      MANAGER_STOP_VMS_ON_EXIT: 'true',
      MANAGER_VM_POWERDOWN_TIMEOUT: '1s',
    });
    const created = await m.call<CreatedVm>('CreateVm', {});
    const consoleLog = path.join(m.runDir, created.cvm_id, 'console.log');
    const log = () => (existsSync(consoleLog) ? readFileSync(consoleLog, 'utf8') : '');
    await until(() => log().includes('dev-guest: race done'), 150_000, 'the guest to finish its reset race');

    const sent = (transport: string) => Number(new RegExp(`dev-guest: race ${transport}: sent (\\d+) failed (\\d+)`).exec(log())?.[1] ?? -1);
    // The guest did get its requests onto the host's sockets, every try.
    expect(sent('grpc')).toBe(TRIES);
    expect(sent('http')).toBe(TRIES);
    // Give a request that slipped through the time to become a VM before looking.
    await new Promise((r) => setTimeout(r, 2000));
    const listed = await m.call<{ vms: WireVm[] }>('ListVms', {});
    expect(listed.vms.map((v) => v.id)).toEqual([created.cvm_id]);
    // Every one of them was refused at the gate, before gRPC or HTTP read a byte.
    const metrics = (await m.http('GET', '/metrics')).text;
    expect(refusals(metrics, 'grpc')).toBeGreaterThanOrEqual(TRIES);
    expect(refusals(metrics, 'http')).toBeGreaterThanOrEqual(TRIES);
    expect(metrics).toMatch(/manager_connections_refused_total\{[^}]*reason="peer-unverified"[^}]*\} [1-9]/);

    // The host is not a guest: it creates, lists and removes.
    const second = await m.call<CreatedVm>('CreateVm', {});
    const again = await m.call<{ vms: WireVm[] }>('ListVms', {});
    expect(again.vms.map((v) => v.id).sort()).toEqual([created.cvm_id, second.cvm_id].sort());
    const rest = await m.http('GET', '/vms');
    expect(rest.status).toBe(200);
    await m.call('RemoveVm', { cvm_id: second.cvm_id });
    await m.call('RemoveVm', { cvm_id: created.cvm_id });
  });
});
