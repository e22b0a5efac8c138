/** One computation the client started (or is starting) a VM for. */
export interface Computation {
  readonly id: string;
  /** The VM's id once created; null while it is being created. */
  vmId: string | null;
  forwardedPort: number | null;
  /** Resolves when its run has settled (VM up and manifest handed over, or failed). */
  readonly settled: Promise<void>;
}

/**
 * The computations this manager runs for Computation Management: computation
 * id ↔ VM id. Kept for the client's whole life, across streams (a reconnect
 * changes nothing here: the VMs keep running and later requests find them).
 * Not persisted: a restarted manager re-adopts the VMs but no longer knows
 * their computations.
 */
export class Computations {
  private readonly byId = new Map<string, Computation>();
  private readonly byVm = new Map<string, string>();

  get size(): number {
    return this.byId.size;
  }

  /** The computation `id` (starting or running), if any. */
  get(id: string): Computation | undefined {
    return this.byId.get(id);
  }

  /** Which computation VM `vmId` runs, if the client started it. */
  computationOfVm(vmId: string): string | undefined {
    return this.byVm.get(vmId);
  }

  /** A run starts: the id is taken until `forget`. Returns the function that marks the run settled. */
  begin(id: string): () => void {
    if (this.byId.has(id)) throw new Error(`computation ${id} exists`);
    let settle = () => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    this.byId.set(id, { id, vmId: null, forwardedPort: null, settled });
    return settle;
  }

  /** The run's VM exists. */
  bind(id: string, vmId: string, forwardedPort: number): void {
    const computation = this.byId.get(id);
    if (!computation) return;
    computation.vmId = vmId;
    computation.forwardedPort = forwardedPort;
    this.byVm.set(vmId, id);
  }

  /** The computation is over (stopped, failed, its VM gone). */
  forget(id: string): void {
    const computation = this.byId.get(id);
    if (!computation) return;
    this.byId.delete(id);
    if (computation.vmId !== null) this.byVm.delete(computation.vmId);
  }

  /** VM `vmId` went away; returns the computation it ran, now forgotten. */
  forgetVm(vmId: string): string | undefined {
    const id = this.byVm.get(vmId);
    if (id !== undefined) this.forget(id);
    return id;
  }

  /** Every computation, for status and logs. */
  list(): Computation[] {
    return [...this.byId.values()];
  }
}
