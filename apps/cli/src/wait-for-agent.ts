import net from 'node:net';
import ora from 'ora';

/** Resolves once something accepts TCP connections on host:port; a spinner shows the wait on a terminal. */
export async function waitForAgent(host: string, port: number, timeoutMs: number, label: string): Promise<number> {
  const started = Date.now();
  const spinner = ora({ text: label, stream: process.stderr }).start();
  const tick = setInterval(() => (spinner.text = `${label} (${((Date.now() - started) / 1000).toFixed(0)} s)`), 250);
  try {
    while (Date.now() - started < timeoutMs) {
      if (await accepts(host, port)) {
        spinner.stop();
        return (Date.now() - started) / 1000;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    spinner.stop();
    throw new Error(`the agent on ${host}:${port} did not accept connections within ${timeoutMs / 1000} s`);
  } finally {
    clearInterval(tick);
  }
}

/**
 * QEMU's user networking accepts on the host port whether or not the guest
 * listens (it connects to the guest only afterwards), so an accepted
 * connection proves nothing: "up" means the agent sent something back. HTTP,
 * HTTP/2 (whose server preface comes first) and TLS servers all do.
 */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once('connect', () => socket.write('HEAD / HTTP/1.0\r\n\r\n'));
    socket.once('data', () => done(true));
  });
}
