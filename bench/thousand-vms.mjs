// A thousand VMs on one manager (issue 24), with the test kit's fake launcher
// (bench/fake-manager-main.mjs: the default build, its real transports, no
// QEMU), so every figure is the manager's own cost: ListVms and GetVm at
// 1,000 over at 1, CreateVm at 1,000 over at 0, RSS per VM, the event loop's
// lag while 50 of the 1,000 write console lines, and re-adoption of 1,000
// after a restart over an empty start. Each against a baseline of the same run.
import { appendFileSync, rmSync } from 'node:fs';
import { fork } from 'node:child_process';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import { loadManagerProto } from '@cocos-manager/contract';
import { benchEnv, fig, median, ms, tempBase } from './lib.mjs';
import { alternated, bareList, listBreakdown } from './list-breakdown.mjs';

const VMS = 1000;
const WRITERS = 50;
const thousandEnv = (base, range) => ({
  ...benchEnv(base, range, { MANAGER_MAX_VMS: String(VMS + 10), MANAGER_LOG_LEVEL: 'info' }),
  MANAGER_QEMU_ENABLE_KVM: 'false',
});

/** The fake manager process and a request/answer over its IPC channel. */
async function fakeManager() {
  const child = fork(new URL('./fake-manager-main.mjs', import.meta.url), [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let next = 0;
  const waiting = new Map();
  child.on('message', (msg) => {
    const w = waiting.get(msg.id);
    waiting.delete(msg.id);
    if (!w) return;
    if (msg.error) w.reject(new Error(msg.error));
    else w.resolve(msg);
  });
  await new Promise((resolve) => child.once('message', resolve));
  return {
    pid: child.pid,
    ask: (op, extra = {}) =>
      new Promise((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        child.send({ id, op, ...extra });
      }),
    kill: () => child.kill('SIGKILL'),
  };
}

function grpcClient(port) {
  const { ManagerService } = loadManagerProto();
  const client = new ManagerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 2 ** 20 });
  const call = (method, req) => new Promise((resolve, reject) => client[method](req, (e, r) => (e ? reject(e) : resolve(r))));
  return { client, call };
}

/** Median CreateVm response on `a` and on `b` (each VM removed again, so the counts stay), alternated, after two of each unmeasured. */
async function createLatencies(a, b) {
  const times = [[], []];
  for (let i = 0; i < 14; i++) {
    for (const [j, call] of [a, b].entries()) {
      const t = ms();
      const vm = await call('CreateVm', {});
      if (i >= 2) times[j].push(ms() - t);
      await call('RemoveVm', { cvm_id: vm.cvm_id });
    }
  }
  return { a: median(times[0]), b: median(times[1]) };
}

async function inWaves(n, width, task) {
  const out = [];
  for (let i = 0; i < n; i += width) out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, j) => task(i + j)))));
  return out;
}

export async function runThousandVms() {
  const figures = [];
  const base = tempBase('thousand');
  const fewBase = tempBase('thousand-few');
  const emptyBase = tempBase('thousand-empty');
  const env = thousandEnv(base, '21000-22099');
  // Two managers side by side: `few` with 1 VM (0 for CreateVm), `fm` with 1,000.
  const fm = await fakeManager();
  const few = await fakeManager();
  let g;
  let f;
  try {
    g = grpcClient((await fm.ask('start', { env })).grpcPort);
    f = grpcClient((await few.ask('start', { env: thousandEnv(fewBase, '22200-22399') })).grpcPort);
    const first = (await f.call('CreateVm', {})).cvm_id;
    const t = ms();
    const ids = await inWaves(VMS, 25, () => g.call('CreateVm', {}).then((v) => v.cvm_id));
    const createAllMs = ms() - t;
    const list = await alternated(
      () => f.call('ListVms', {}),
      () => g.call('ListVms', {}),
    );
    const breakdown = await listBreakdown(fm, g.call);
    const bare = await bareList(await f.call('ListVms', {}), await g.call('ListVms', {}));
    const get = await alternated(
      () => f.call('GetVm', { id: first }),
      () => g.call('GetVm', { id: ids[VMS - 1] }),
    );
    await f.call('RemoveVm', { cvm_id: first });
    const create = await createLatencies(f.call, g.call);
    const rss0 = (await few.ask('rss')).rssMiB;
    const rss1000 = (await fm.ask('rss')).rssMiB;
    const perVm = (rss1000 - rss0) / VMS;
    figures.push(
      fig(`ListVms latency at ${VMS} VMs (fake launcher), over at 1 VM`, list.b, 'ms', list.a, list.b / list.a, '≤ 1.5', list.b / list.a <= 1.5, breakdown),
    );
    figures.push(
      fig(
        `ListVms latency at ${VMS} VMs (fake launcher), over a bare grpc-js server answering the same ${VMS} VMs (same bytes)`,
        list.b,
        'ms',
        bare.b,
        list.b / bare.b,
        'none: the share of the figure above that is not the wire (a bare server at 1 VM over at 1,000 is bareRatio)',
        true,
        { bareAt1Ms: +bare.a.toFixed(2), bareRatio: +(bare.b / bare.a).toFixed(3) },
      ),
    );
    figures.push(fig(`GetVm latency at ${VMS} VMs (fake launcher), over at 1 VM`, get.b, 'ms', get.a, get.b / get.a, '≤ 1.2', get.b / get.a <= 1.2));
    figures.push(
      fig(`CreateVm latency at ${VMS} VMs (fake launcher), over at 0`, create.b, 'ms', create.a, create.b / create.a, '≤ 1.2', create.b / create.a <= 1.2, {
        createAllMs: +createAllMs.toFixed(0),
      }),
    );
    figures.push(
      fig(
        `manager RSS per VM at ${VMS} VMs (fake launcher; both managers after a full GC), over a manager with none`,
        perVm,
        'MiB',
        rss0,
        rss1000 / rss0,
        '≤ 0.5 MiB per VM',
        perVm <= 0.5,
        {
          rssAt1000MiB: +rss1000.toFixed(1),
        },
      ),
    );
    // A page of 100 (ListVms page_size), what a client of a 1,000-VM manager asks for, against a manager of 100 answering
    // all of its 100: the same bytes on the wire, so the ratio is what the other 900 VMs cost the call.
    const PAGE = 100;
    await inWaves(PAGE, 25, () => f.call('CreateVm', {}));
    const paged = await alternated(
      () => f.call('ListVms', {}),
      () => g.call('ListVms', { page_size: PAGE }),
    );
    const pageName = `ListVms latency of a page of ${PAGE} at ${VMS} VMs (fake launcher), over the whole list of a manager with ${PAGE}`;
    figures.push(
      fig(pageName, paged.b, 'ms', paged.a, paged.b / paged.a, '≤ 1.5', paged.b / paged.a <= 1.5, {
        overListAt1: +(paged.b / list.a).toFixed(3),
        servicePageMs: +(await fm.ask('listCost', { pageSize: PAGE })).ms.toFixed(3),
      }),
    );
    f.client.close();
    await few.ask('stop');
    few.kill();

    // Event-loop lag: 20 s of the 1,000 idle, then 20 s while 50 of them write 20 console lines a second each.
    const idle = await fm.ask('lag', { seconds: 20 });
    const logs = ids.slice(0, WRITERS).map((id) => path.join(env.MANAGER_RUN_DIR, id, 'console.log'));
    let n = 0;
    const writer = setInterval(() => {
      for (const log of logs)
        appendFileSync(log, `[${(n++).toString().padStart(8)}] guest: a console line of the usual length, with a counter and some text\n`);
    }, 50);
    const busy = await fm.ask('lag', { seconds: 20 });
    clearInterval(writer);
    figures.push(
      fig(
        `event-loop lag p99, ${VMS} VMs idle and ${WRITERS} writing 20 console lines/s each (fake launcher)`,
        busy.p99,
        'ms',
        idle.p99,
        busy.p99 / idle.p99,
        '≤ 20 ms',
        busy.p99 <= 20,
        {
          linesWritten: n,
          p50Ms: +busy.p50.toFixed(2),
          maxMs: +busy.max.toFixed(1),
          idleMaxMs: +idle.max.toFixed(1),
        },
      ),
    );

    // Restart: the same process, the same launcher (its fake QEMUs live on); an empty manager on its own directories first.
    g.client.close();
    const empty = [];
    const restart = [];
    for (let round = 0; round < 3; round++) {
      empty.push((await fm.ask('empty', { env: thousandEnv(emptyBase, '22100-22199') })).ms);
      const r = await fm.ask('restart');
      restart.push(r.ms);
      g = grpcClient(r.grpcPort);
    }
    const listed = (await g.call('ListVms', {})).vms;
    if (listed.length !== VMS || !listed.every((v) => v.adopted && v.state === 'running'))
      throw new Error(`after the restart ${listed.length} VMs are listed, not all running and adopted`);
    const extra = median(restart) - median(empty);
    figures.push(
      fig(
        `restart with ${VMS} VMs (fake launcher): start → all re-adopted, minus an empty manager's start`,
        extra,
        'ms',
        median(empty),
        median(restart) / median(empty),
        '≤ +3000 ms',
        extra <= 3000,
        {
          restartRunsMs: restart.map((x) => +x.toFixed(0)),
          emptyRunsMs: empty.map((x) => +x.toFixed(0)),
        },
      ),
    );
    await fm.ask('stop');
  } finally {
    g?.client.close();
    f?.client.close();
    fm.kill();
    few.kill();
    rmSync(base, { recursive: true, force: true });
    rmSync(fewBase, { recursive: true, force: true });
    rmSync(emptyBase, { recursive: true, force: true });
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await runThousandVms()) console.log(JSON.stringify(f));
  process.exit(0);
}
