import net from 'node:net';
import { ManagerError } from '../../errors.js';
import type { PortRange } from '../../config/formats.js';

/** Whether nothing else on the host holds `port` (QEMU's hostfwd binds every IPv4 address). */
export function isHostPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '0.0.0.0', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Hands out host ports from MANAGER_QEMU_HOST_FWD_RANGE. A port is reserved
 * synchronously before the host is asked about it, so concurrent creates can
 * never get the same one; ports another process holds are skipped.
 */
export class PortAllocator {
  private readonly reserved = new Set<number>();

  constructor(
    readonly range: PortRange,
    private readonly isFree: (port: number) => Promise<boolean> = isHostPortFree,
  ) {}

  get size(): number {
    return this.range.last - this.range.first + 1;
  }

  get inUse(): number {
    return this.reserved.size;
  }

  async allocate(): Promise<number> {
    let busyElsewhere = 0;
    for (let port = this.range.first; port <= this.range.last; port++) {
      if (this.reserved.has(port)) continue;
      this.reserved.add(port);
      if (await this.isFree(port)) return port;
      this.reserved.delete(port);
      busyElsewhere++;
    }
    throw new ManagerError(
      'PORTS_EXHAUSTED',
      `no free host port in MANAGER_QEMU_HOST_FWD_RANGE ${this.range.first}-${this.range.last}: ` +
        `${this.reserved.size} used by VMs, ${busyElsewhere} held by other processes`,
    );
  }

  /** Marks a port as ours without probing (a VM that already holds it). */
  claim(port: number): void {
    this.reserved.add(port);
  }

  reservedPorts(): number[] {
    return [...this.reserved];
  }

  release(port: number): void {
    this.reserved.delete(port);
  }
}
