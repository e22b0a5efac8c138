import path from 'node:path';
import type { CreateVmRequest } from '../vm/types.js';

/** What a backend or boot strategy knows about the VM it works on. */
export class VmContext {
  constructor(
    readonly id: string,
    /** The VM's own 0700 directory; everything in it is removed with the VM. */
    readonly dir: string,
    readonly hostPort: number,
    readonly request: Readonly<CreateVmRequest>,
    /** The kernel command line, including `agent.aa_kbc_params=…` when requested. */
    readonly kernelCommandLine: string,
  ) {}

  /** A path inside the VM's directory. */
  file(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }
}
