import type { AddressInfo, Server } from 'node:net';
import type { Logger } from 'pino';

/** Errors that mean "this machine has no IPv6 loopback": `localhost` then binds IPv4 only. */
const NO_ADDRESS = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT']);

/** The addresses a transport's host setting means: `localhost` is 127.0.0.1 and ::1 whatever /etc/hosts says; empty is 0.0.0.0. */
export function listenAddresses(host: string): [string, ...string[]] {
  return host === 'localhost' ? ['127.0.0.1', '::1'] : [host === '' ? '0.0.0.0' : host];
}

export function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Listens on every address of `host` on one port: `main` on the first (its
 * port, when `port` is 0, is the one the others take), a server from
 * `extra()` on each other; an address the machine lacks (no IPv6 loopback)
 * is skipped with a warning. Returns the port and the servers listening.
 */
export async function listenOnAll(
  main: Server,
  extra: () => Server,
  host: string,
  port: number,
  log: { logger: Logger; transport: string },
): Promise<{ port: number; servers: Server[] }> {
  const [first, ...others] = listenAddresses(host);
  await listenOn(main, first, port);
  const servers = [main];
  const bound = (main.address() as AddressInfo).port;
  for (const address of others) {
    const server = extra();
    try {
      await listenOn(server, address, bound);
      servers.push(server);
    } catch (err) {
      if (!NO_ADDRESS.has((err as NodeJS.ErrnoException).code ?? '')) {
        for (const s of servers) s.close();
        throw err;
      }
      log.logger.warn({ address }, `${log.transport}: ${address} is not available on this host; serving on ${first} only`);
    }
  }
  return { port: bound, servers };
}
