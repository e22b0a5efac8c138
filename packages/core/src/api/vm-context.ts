import path from 'node:path';
import { emptyCreateVmRequest, type CreateVmRequest } from './vm-types.js';

/** What a backend or boot strategy knows about the VM it works on. */
export class VmContext {
  private creating: Readonly<CreateVmRequest>;

  constructor(
    readonly id: string,
    /** The VM's own 0700 directory; everything in it is removed with the VM. */
    readonly dir: string,
    readonly hostPort: number,
    request: Readonly<CreateVmRequest>,
    /** The kernel command line, including `agent.aa_kbc_params=…` when requested. */
    readonly kernelCommandLine: string,
  ) {
    this.creating = request;
  }

  /**
   * The client's CreateVm request — during the create only (`prepare`,
   * `contribute`). It carries secrets (AWS keys, the agent's private key),
   * which the create writes into the VM's shares; once the create is over,
   * whichever way it ended, this is an empty request so no secret outlives
   * it in the manager's memory.
   */
  get request(): Readonly<CreateVmRequest> {
    return this.creating;
  }

  /** The create is over: forget the request (called by core, not by plugins). */
  dropRequest(): void {
    this.creating = emptyCreateVmRequest();
  }

  /** A path inside the VM's directory. */
  file(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }
}
