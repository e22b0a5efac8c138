// The manager process itself: build from the plugins, start, serve until a signal.
import { ConfigError, CREATE_FAULTS, createFaultsFromEnv, ManagerError, type ManagerPlugin } from '@cocos-manager/core';
import { Manager, stderrLogDestination, type TokenOverride } from '@cocos-manager/core/internal';
import { restoreYoungGenerationGrowth } from './young-generation.js';

export const VERSION = '0.1.0';

/** Start-up problems are one line on stderr, not a stack trace. */
export function fail(err: unknown): never {
  // Every error the manager raises is a ManagerError (ConfigError, PluginError… are its kinds).
  const known = err instanceof ManagerError;
  // The operator's own command: a ManagerError's detail (paths, a tool's output) is theirs to see.
  const detail = err instanceof ManagerError && err.detail ? ` (${err.detail})` : '';
  const message = `${err instanceof Error ? err.message : String(err)}${detail}`.trim().split(/\r?\n/).join(' | ');
  process.stderr.write(`cocos-manager: ${message}\n`);
  if (!known && err instanceof Error && process.env['MANAGER_LOG_LEVEL'] === 'debug') process.stderr.write(`${err.stack}\n`);
  process.exit(known ? 2 : 1);
}

/** Test hooks of the binary (MANAGER_TEST_HOOKS=1): today, a crash drill inside a create. */
function testOverrides(): TokenOverride[] {
  try {
    const faults = createFaultsFromEnv(process.env);
    return faults ? [{ token: CREATE_FAULTS, useValue: faults }] : [];
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** The manager; `logToStderr` for one-shot commands, whose stdout is their answer. */
export function build(plugins: readonly ManagerPlugin[], options: { logToStderr?: boolean } = {}): Manager {
  try {
    return Manager.create({ plugins, overrides: testOverrides(), ...(options.logToStderr ? { logDestination: stderrLogDestination() } : {}) });
  } catch (err) {
    fail(err);
  }
}

/**
 * No silent death: an unhandled rejection or an uncaught exception (a
 * plugin's timer, a stray callback) is logged as one line with the error.
 * Once serving, the manager goes on — its VMs run in their own processes and
 * every request is independent; during start-up an exception still stops it
 * (`startingUp()` says which).
 */
function guardProcess(logger: Manager['logger'], startingUp: () => boolean): void {
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection; the manager keeps serving');
  });
  process.on('uncaughtException', (err: Error) => {
    if (startingUp()) {
      logger.fatal({ err }, 'uncaught exception during start-up');
      logger.flush();
      fail(err);
    }
    logger.error({ err }, 'uncaught exception; the manager keeps serving');
  });
}

export async function serve(plugins: readonly ManagerPlugin[]): Promise<void> {
  const manager = build(plugins);
  let starting = true;
  guardProcess(manager.logger, () => starting);
  try {
    await manager.start();
    starting = false;
    restoreYoungGenerationGrowth();
  } catch (err) {
    await manager.stop().catch(() => undefined);
    manager.logger.flush();
    fail(err);
  }
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    manager.logger.info({ signal }, 'shutting down');
    manager.stop().then(
      () => {
        manager.logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        manager.logger.error({ err }, 'shutdown failed');
        manager.logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
