import { readdir } from 'node:fs/promises';
import { tearDownOrphan } from './orphan-teardown.js';
import type { VmRuntime } from '../vm-runtime.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface ReconcileReport {
  readonly directories: string[];
  readonly stateFiles: string[];
  readonly ports: number[];
}

/**
 * Sweeps what no VM owns: per-VM directories and state files of ids neither
 * known nor being created, and reserved ports no VM or create holds.
 */
export class Reconciler {
  constructor(private readonly rt: VmRuntime) {}

  async reconcile(): Promise<ReconcileReport> {
    const { rt } = this;
    const known = rt.table.knownIds();
    const directories = await this.sweepDirectories(known, 'reconciler: no VM owns it');
    const stateFiles: string[] = [];
    for (const id of await rt.store.ids()) {
      if (known.has(id)) continue;
      await rt.store.remove(id);
      stateFiles.push(id);
    }
    const held = rt.table.heldPorts();
    const ports = rt.ports.reservedPorts().filter((p) => !held.has(p));
    for (const port of ports) rt.ports.release(port);
    if (directories.length + stateFiles.length + ports.length > 0) {
      rt.logger.warn({ directories, stateFiles, ports }, 'reconciler removed orphans');
    }
    return { directories, stateFiles, ports };
  }

  /**
   * Tears down the per-VM directories (under the run directory and the share
   * mounts) of ids not in `known`; returns those ids. Start-up calls it with
   * the saved records' ids before serving, the periodic sweep with the VMs
   * and creates in flight.
   */
  async sweepDirectories(known: ReadonlySet<string>, why: string): Promise<string[]> {
    const { rt } = this;
    const orphans = new Set<string>();
    const roots = [rt.planner.root, rt.settings.qemu.envMount, rt.settings.qemu.certsMount].filter((r) => r !== '');
    for (const root of new Set(roots)) {
      for (const entry of await readdir(root).catch(() => [] as string[])) {
        if (UUID.test(entry) && !known.has(entry)) orphans.add(entry);
      }
    }
    for (const id of orphans) await tearDownOrphan(rt, id, why);
    return [...orphans];
  }
}
