// The manager's own cost, measured against QEMU and a bare gRPC server in the
// same run (BENCHMARKS.md explains each figure). Figures 1 and 2 are here;
// 4 in cvminfo-figure.mjs, 5–7 in ten-vms-figures.mjs.
import { rmSync } from 'node:fs';
import { cvmInfoThroughput } from './cvminfo-figure.mjs';
import { bareGrpcServer, benchEnv, fig, guestAnswers, median, ms, rawQemu, spread, startManager, tempBase } from './lib.mjs';
import { tenVmFigures } from './ten-vms-figures.mjs';

const ROUNDS = 30;

/** 1. CreateVm response time minus spawning the same argv directly (both until QEMU answers QMP), paired round by round. */
export async function createOverhead() {
  const base = tempBase('create');
  const env = benchEnv(base, '6600-6631');
  const m = await startManager(env);
  // The part of the overhead that is any gRPC server's: one unary round trip to a bare grpc-js
  // server left idle as long as the manager was before its CreateVm (this machine's wake-up included).
  const bare = await bareGrpcServer({ ListVms: { vms: [] } });
  const creates = [];
  const raws = [];
  const roundTrips = [];
  try {
    for (let i = 0; i < ROUNDS; i++) {
      const t = ms();
      const vm = await m.call('CreateVm', {});
      creates.push(ms() - t);
      await m.call('RemoveVm', { cvm_id: vm.cvm_id });
      const raw = await rawQemu(env, base);
      raws.push(raw.readyMs);
      await raw.stop();
      const r = ms();
      await bare.call('ListVms', {});
      roundTrips.push(ms() - r);
    }
  } finally {
    await bare.stop();
    await m.stop();
    rmSync(base, { recursive: true, force: true });
  }
  // Each create against the raw spawn right after it: a slow moment of the machine lands on both of a
  // pair, where a difference of medians keeps it (the two spreads are several times the goal).
  const overhead = median(creates.map((c, i) => c - (raws[i] ?? 0)));
  return fig(
    'CreateVm response minus raw QEMU spawn (until QMP answers)',
    overhead,
    'ms',
    median(raws),
    median(creates) / median(raws),
    'median overhead ≤ 5 ms',
    overhead <= 5,
    {
      medianDifferenceMs: +(median(creates) - median(raws)).toFixed(2),
      createMedianMs: +median(creates).toFixed(1),
      createSpreadMs: +spread(creates).toFixed(1),
      rawSpreadMs: +spread(raws).toFixed(1),
      bareGrpcRoundTripMs: +median(roundTrips).toFixed(2),
      overheadBeyondRoundTripMs: +(overhead - median(roundTrips)).toFixed(2),
    },
  );
}

/** 2. CreateVm → guest answers, over raw spawn → guest answers. */
async function bootRatio() {
  const base = tempBase('boot');
  const env = benchEnv(base, '6632-6640');
  const m = await startManager(env);
  const managed = [];
  const raw = [];
  try {
    for (let i = 0; i < 3; i++) {
      const t = ms();
      const vm = await m.call('CreateVm', {});
      managed.push(await guestAnswers(Number(vm.forwarded_port), t));
      await m.call('RemoveVm', { cvm_id: vm.cvm_id });
      const q = await rawQemu(env, base);
      raw.push(await guestAnswers(q.port, q.t0));
      await q.stop();
    }
  } finally {
    await m.stop();
    rmSync(base, { recursive: true, force: true });
  }
  const ratio = median(managed) / median(raw);
  return fig('CreateVm → guest answers, over raw spawn → guest answers (TCG)', median(managed), 'ms', median(raw), ratio, 'ratio ≤ 1.05', ratio <= 1.05);
}

export async function runManagerFigures() {
  const figures = [];
  for (const [name, run] of [
    ['create overhead', createOverhead],
    ['boot ratio', bootRatio],
    ['CVMInfo throughput', cvmInfoThroughput],
    ['ten VMs', tenVmFigures],
  ]) {
    process.stderr.write(`bench: ${name}…\n`);
    const result = await run();
    for (const f of [result].flat()) {
      console.log(JSON.stringify(f));
      figures.push(f);
    }
  }
  return figures;
}
