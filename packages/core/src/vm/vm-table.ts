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
    if (id === '') throw ManagerError.invalidArgument('the VM id is empty');
    const vm = this.vms.get(id);
    if (!vm) throw ManagerError.notFound(`no VM with id "${id}"`);
    return vm;
  }

  all(): IterableIterator<VmInstance> {
    return this.vms.values();
  }

  /** Oldest first. */
  sorted(): VmInstance[] {
    return [...this.vms.values()].sort((a, b) => a.origin.createdAt.getTime() - b.origin.createdAt.getTime());
  }

  /** Slots taken: VMs neither failed nor stopped, plus creates in flight. */
  slotsInUse(): number {
    let n = this.creating.size;
    for (const vm of this.vms.values()) if (vm.active) n++;
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

  /** Ids of VMs and of creates in flight: what the reconciler must not touch. */
  knownIds(): Set<string> {
    return new Set([...this.vms.keys(), ...this.creating.keys()]);
  }

  /** Ports still held by a VM (not yet released) or by a create in flight. */
  heldPorts(): Set<number> {
    const held = new Set<number>();
    for (const vm of this.vms.values()) if (!vm.started('release')) held.add(vm.plan.context.hostPort);
    for (const port of this.creating.values()) if (port !== null) held.add(port);
    return held;
  }
}
