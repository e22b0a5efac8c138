import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import type { KillRequest, SpawnerReport, SpawnerRequest, SpawnRequest } from './spawner-protocol.js';

/*
 * The QEMU spawner: a small helper process the manager starts once and asks
 * to start its QEMUs, so that the fork behind each spawn is paid by this
 * small process and not by the manager's event loop (fork copies the page
 * tables of the forking process: the larger it is, the longer it blocks).
 * Erasable TypeScript importing only Node's own modules (not even execa:
 * what it loads is what this process weighs): Node runs it from dist, and
 * from the sources, in tests, by type stripping.
 *
 * Each QEMU is started detached (a session and process group of its own, as
 * the manager did itself), stdin closed, stdout and stderr appended to its
 * console log; this process reaps it and reports its exit. When the manager
 * goes (stdin ends) it exits at once without touching its children: they
 * are reparented to init and a new manager re-adopts them.
 */

/** Field 22 of /proc/<pid>/stat (zombies included: the child may have exited already); '' if unreadable. */
function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/** Serves spawn and kill requests read from `input` (one JSON object per line), reporting on `output`; resolves when `input` ends. */
export function serve(input: Readable, output: Writable): Promise<void> {
  const children = new Map<number, ChildProcess>();
  const report = (r: SpawnerReport) => {
    if (output.writable) output.write(`${JSON.stringify(r)}\n`);
  };

  const start = (req: SpawnRequest) => {
    let fd: number;
    try {
      // 0600 before QEMU (or the guest) writes anything to it.
      fd = openSync(req.log, 'a', 0o600);
    } catch (err) {
      report({ t: 'failed', id: req.id, message: `cannot open its console log: ${(err as Error).message}` });
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(req.file, [...req.args], { detached: true, stdio: ['ignore', fd, fd] });
    } catch (err) {
      report({ t: 'failed', id: req.id, message: (err as Error).message });
      return;
    } finally {
      closeSync(fd);
    }
    let spawned = false;
    child.once('spawn', () => {
      spawned = true;
      children.set(req.id, child);
      report({ t: 'spawned', id: req.id, pid: child.pid!, startTime: startTimeOf(child.pid!) });
    });
    child.once('error', (err) => {
      if (!spawned) report({ t: 'failed', id: req.id, message: err.message });
    });
    child.once('exit', (code, signal) => {
      if (!spawned) return;
      children.delete(req.id);
      report({ t: 'exit', id: req.id, code, signal });
    });
  };

  const kill = (req: KillRequest) => {
    const child = children.get(req.id);
    let sent = false;
    try {
      // Only an unreaped child: its pid cannot have been reused.
      sent = child !== undefined && child.exitCode === null && child.signalCode === null && child.kill(req.signal as NodeJS.Signals);
    } catch {
      sent = false; // an unknown signal name
    }
    report({ t: 'killed', req: req.req, sent });
  };

  const lines = createInterface({ input, crlfDelay: Infinity });
  lines.on('line', (line) => {
    let req: SpawnerRequest;
    try {
      req = JSON.parse(line) as SpawnerRequest;
    } catch {
      process.stderr.write(`cocos-manager-spawner: ignoring a line that is not JSON\n`);
      return;
    }
    if (req.t === 'spawn') start(req);
    else if (req.t === 'kill') kill(req);
  });
  report({ t: 'ready', pid: process.pid });
  return new Promise((resolve) => lines.once('close', () => resolve()));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.title = 'cocos-manager-spawner';
  // The manager gone (its end of stdout closed) or a write failing: nothing more to report to anyone.
  process.stdout.on('error', () => process.exit(0));
  for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);
  serve(process.stdin, process.stdout).then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
