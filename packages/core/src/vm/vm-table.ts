import { ManagerError } from '../errors.js';
import type { VmInstance } from './vm-instance.js';

/**
 * The VMs this manager knows, and the creates in flight (each holding a VM
 * slot, and its port once it has one), so capacity and the reconciler see
 * both.
 */
export class VmTable {
  private readonly vms = new Map<string, VmInstance>();
  private readonly creating = new Map<string, number | null>();
  /** VMs recovery refused to adopt (their plugins are not loaded): their files, record and port (while their QEMU runs) are left alone. */
  private readonly protectedIds = new Map<string, number | null>();

  get size(): number {
    return this.vms.size;
  }

  add(vm: VmInstance): void {
    this.vms.set(vm.id, vm);
  }

  delete(id: string): void {
    this.vms.delete(id);
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

  /** Oldest first. */
  sorted(): VmInstance[] {
    return [...this.vms.values()].sort((a, b) => a.origin.createdAt.getTime() - b.origin.createdAt.getTime());
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
