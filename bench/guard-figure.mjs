// The VM-origin guard's cost per connection at 1,000 VMs (issue 24), against
// the same guard at 1 VM, on the real /proc: the "QEMUs" are 1,000 real
// processes (sleep, holding 21 descriptors each like an idle paused QEMU's
// 18), all of this user's uid — the worst case, where the uid cannot rule a
// QEMU out. Four kinds of connection:
//   - a repeat client: this process again (its last holder is remembered);
//   - a new client process: a child connecting once (found among the
//     processes that are not QEMUs);
//   - a guest's first connection: a "VM" process holding the peer socket,
//     refused only after every QEMU's descriptors are read — what every
//     connection cost before;
//   - the same guest's further connections (its QEMU is read first).
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { VmOriginGuard } from '@cocos-manager/core/internal';
import { fig, median, ms, sleep } from './lib.mjs';

const MANY = 1000;
const ROUNDS = 30;

/** `n` processes with 21 open descriptors each, like idle QEMUs, once each has exec'd sleep. */
async function standIns(n) {
  const redirections = Array.from({ length: 18 }, (_, i) => `${i + 3}</dev/null`).join(' ');
  const children = [];
  for (let i = 0; i < n; i++) children.push(spawn('bash', ['-c', `exec sleep 100000 ${redirections}`], { stdio: 'ignore' }));
  const execd = (c) => {
    try {
      return readFileSync(`/proc/${c.pid}/cmdline`, 'utf8').startsWith('sleep') && readdirSync(`/proc/${c.pid}/fd`).length >= 21;
    } catch {
      return false;
    }
  };
  while (!children.every(execd)) await sleep(100);
  return children;
}

const vmOf = (id, pid) => ({
  id,
  pid,
  state: 'running',
  forwardedPort: 0,
  backend: 'plain',
  boot: 'ram',
  createdAt: '',
  ttlDeadline: null,
  exit: null,
  guestStatus: null,
  adopted: false,
});

export async function server() {
  const accepted = [];
  const waiting = [];
  const srv = net.createServer((s) => {
    s.on('error', () => undefined);
    const w = waiting.shift();
    if (w) w(s);
    else accepted.push(s);
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = srv.address().port;
  return { srv, port, next: () => new Promise((resolve) => (accepted.length ? resolve(accepted.shift()) : waiting.push(resolve))) };
}

const endsOf = (s) => ({ remoteAddress: s.remoteAddress, remotePort: s.remotePort, localAddress: s.localAddress, localPort: s.localPort });

/** A process that opens a connection to `port` for each line it reads (the guest, or a new client). */
function connector(port) {
  const child = spawn(process.execPath, ['-e', `process.stdin.on('data', () => require('net').connect(${port}, '127.0.0.1')); setInterval(() => {}, 1e6)`], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  return { child, connect: () => child.stdin.write('x\n') };
}

async function timedChecks(guard, connectOnce, s, rounds) {
  const times = [];
  for (let i = 0; i < rounds; i++) {
    connectOnce();
    const sock = await s.next();
    const t = ms();
    const verdict = await guard.check(endsOf(sock));
    times.push(ms() - t);
    sock.destroy();
    if (verdict.allowed === undefined) throw new Error('no verdict');
  }
  return times;
}

/** Per-connection times at `vmPids.length` VMs (+ the guests): repeat client, new client process, a guest's first and repeated connections. */
export async function measure(vmPids, s) {
  const guests = Array.from({ length: 5 }, () => connector(s.port));
  await sleep(500);
  const vms = [...vmPids.map((pid, i) => vmOf(`vm-${i}`, pid)), ...guests.map((g, i) => vmOf(`guest-${i}`, g.child.pid))];
  const guard = new VmOriginGuard({ list: () => vms }, pino({ level: 'silent' }));
  const own = [];
  const repeat = await timedChecks(guard, () => own.push(net.connect(s.port, '127.0.0.1')), s, ROUNDS);
  const fresh = [];
  for (let i = 0; i < 10; i++) {
    const client = connector(s.port);
    await sleep(300);
    fresh.push(...(await timedChecks(guard, client.connect, s, 1)));
    client.child.kill('SIGKILL');
  }
  const firstRefusals = [];
  for (const g of guests) firstRefusals.push(...(await timedChecks(guard, g.connect, s, 1)));
  const refusals = await timedChecks(guard, guests[0].connect, s, 10);
  for (const g of guests) g.child.kill('SIGKILL');
  for (const c of own) c.destroy();
  if (process.env.GUARD_DEBUG) console.log(vmPids.length, { repeat, fresh, firstRefusals, refusals });
  return { repeat: median(repeat.slice(1)), fresh: median(fresh), guestFirst: median(firstRefusals), guest: median(refusals) };
}

export async function runGuardFigure() {
  const s = await server();
  const children = await standIns(1);
  try {
    // At 1 VM with only that one stand-in, then with 999 more: the host's other processes are the same in both.
    const one = await measure([children[0].pid], s);
    children.push(...(await standIns(MANY - 1)));
    const many = await measure(
      children.map((c) => c.pid),
      s,
    );
    const goal = '≤ 1.5 × at 1 VM (repeat and new client)';
    return [
      fig(
        `VM-origin guard per connection, repeat local client, at ${MANY} VMs (same uid), over at 1 VM`,
        many.repeat,
        'ms',
        one.repeat,
        many.repeat / one.repeat,
        goal,
        many.repeat / one.repeat <= 1.5,
      ),
      fig(
        `VM-origin guard per connection, new local client process, at ${MANY} VMs (same uid), over at 1 VM`,
        many.fresh,
        'ms',
        one.fresh,
        many.fresh / one.fresh,
        goal,
        many.fresh / one.fresh <= 1.5,
      ),
      fig(
        `VM-origin guard refusing a guest's first connection at ${MANY} VMs (every QEMU's descriptors read), over at 1 VM`,
        many.guestFirst,
        'ms',
        one.guestFirst,
        many.guestFirst / one.guestFirst,
        'none: what every connection cost before issue 24',
        true,
      ),
      fig(
        `VM-origin guard refusing a guest's further connections at ${MANY} VMs (its QEMU read first), over at 1 VM`,
        many.guest,
        'ms',
        one.guest,
        many.guest / one.guest,
        goal.replace('repeat and new client', 'same'),
        many.guest / one.guest <= 1.5,
      ),
    ];
  } finally {
    for (const c of children) c.kill('SIGKILL');
    s.srv.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await runGuardFigure();
  console.log(JSON.stringify(figures, null, 2));
  process.exit(0);
}
