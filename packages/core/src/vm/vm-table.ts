import { ManagerError } from '../errors.js';
import type { VmInstance } from './vm-instance.js';
import { comparePositions, type PagePosition } from '../transport-kit/vm-pages.js';

/** A VM's place in paging order: its creation text and id. */
export const vmPosition = (vm: VmInstance): PagePosition => ({ createdAt: vm.createdAtText, id: vm.id });

/**
 * The VMs this manager knows, and the creates in flight (each holding a VM
 * slot, and its port once it has one), so capacity and the reconciler see
 * both.
 */
export class VmTable {
  private readonly vms = new Map<string, VmInstance>();
  /** The same VMs in paging order (oldest first, ties by id), kept as they come and go, so a ListVms page needs no sort of them all. */
  private readonly ordered: VmInstance[] = [];
  private readonly creating = new Map<string, number | null>();
  /** VMs recovery refused to adopt (their plugins are not loaded): their files, record and port (while their QEMU runs) are left alone. */
  private readonly protectedIds = new Map<string, number | null>();

  get size(): number {
    return this.vms.size;
  }

  add(vm: VmInstance): void {
    this.delete(vm.id);
    this.vms.set(vm.id, vm);
    // New VMs are the newest: the search ends at once at the end.
    this.ordered.splice(this.firstNotBefore(vm), 0, vm);
  }

  delete(id: string): void {
    const vm = this.vms.get(id);
    if (!vm) return;
    this.vms.delete(id);
    this.ordered.splice(this.firstNotBefore(vm), 1);
  }

  /** The index of the first VM in `ordered` whose position is not before `vm`'s. */
  private firstNotBefore(vm: VmInstance): number {
    const at = vmPosition(vm);
    const last = this.ordered[this.ordered.length - 1];
    if (last === undefined || comparePositions(vmPosition(last), at) < 0) return this.ordered.length;
    let start = 0;
    let end = this.ordered.length;
    while (start < end) {
      const mid = (start + end) >>> 1;
      if (comparePositions(vmPosition(this.ordered[mid]!), at) < 0) start = mid + 1;
      else end = mid;
    }
    return start;
  }

  find(id: string): VmInstance | undefined {
    return this.vms.get(id);
  }

  /** The VM with `id`, or the API's NOT_FOUND / INVALID_ARGUMENT. */
  require(id: string): VmInstance {
    if (id === '') throw new ManagerError('REQUEST_FIELD_INVALID', 'the VM id is empty');
    const vm = this.vms.get(id);
    if (!vm) throw new ManagerError('VM_NOT_FOUND', `no VM with id "${id}"`);
    return vm;
  }

  all(): IterableIterator<VmInstance> {
    return this.vms.values();
  }

  /** Oldest first, ties by id (paging order); the table's own index: not to be changed. */
  sorted(): readonly VmInstance[] {
    return this.ordered;
  }

  /** Slots taken: VMs neither failed nor stopped, plus creates in flight, plus refused VMs whose QEMU still runs. */
  slotsInUse(): number {
    let n = this.creating.size;
    for (const port of this.protectedIds.values()) if (port !== null) n++;
    // A VM being created is in the table from its first step and still reserved: counted once.
    for (const vm of this.vms.values()) if (vm.active && !this.creating.has(vm.id)) n++;
    return n;
  }

  reserve(id: string): void {
    this.creating.set(id, null);
  }

  reservePort(id: string, port: number): void {
    this.creating.set(id, port);
  }

  unreserve(id: string): void {
    this.creating.delete(id);
  }

  /** A VM this manager must leave alone (recovery refused it); `port` while its QEMU runs. */
  protect(id: string, port: number | null): void {
    this.protectedIds.set(id, port);
  }

  /** Ids of VMs, of creates in flight and of refused VMs: what the reconciler must not touch. */
  knownIds(): Set<string> {
    return new Set([...this.vms.keys(), ...this.creating.keys(), ...this.protectedIds.keys()]);
  }

  /** Ports still held by a VM (not yet released) or by a create in flight. */
  heldPorts(): Set<number> {
    const held = new Set<number>();
    for (const vm of this.vms.values()) if (!vm.teardown.started) held.add(vm.plan.context.hostPort);
    for (const port of [...this.creating.values(), ...this.protectedIds.values()]) if (port !== null) held.add(port);
    return held;
  }
}
