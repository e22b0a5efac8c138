import { NODE_STATE_FILE_SYSTEM, type StateFile, type StateFileSystem } from '@cocos-manager/core/internal';

/** A call of a state write that a test can make fail. */
export type StateFileCall = 'open' | 'write' | 'fsync' | 'rename' | 'directory fsync';

/** An errno error as node's fs raises it. */
export function errnoError(code: string, call: string, file: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${call} failed (scripted), '${file}'`), { code, syscall: call, path: file });
}

/**
 * The state store's filesystem over the real one, with failures on demand:
 * `fill()` makes every write fail with ENOSPC once its temporary file was
 * created (as a full tmpfs does: creating the empty file still works),
 * `fail(call, code, times)` fails the next calls of one step. It counts the
 * records written and knows the temporary files not yet renamed or removed.
 */
export class FaultyStateFiles implements StateFileSystem {
  private full = false;
  private readonly scripted = new Map<StateFileCall, { code: string; times: number }>();
  private readonly temps = new Set<string>();
  /** Records renamed into place. */
  renamed = 0;
  /** Calls that failed, in order. */
  readonly failures: Array<{ call: StateFileCall; code: string }> = [];

  /** From now on the disk is full (ENOSPC on every write). */
  fill(): this {
    this.full = true;
    return this;
  }

  /** Space returns, scripted failures are dropped: writes work again. */
  heal(): this {
    this.full = false;
    this.scripted.clear();
    return this;
  }

  /** The next `times` calls of `call` fail with `code`. */
  fail(call: StateFileCall, code: string, times = Number.POSITIVE_INFINITY): this {
    this.scripted.set(call, { code, times });
    return this;
  }

  /** Temporary files created and neither renamed nor removed. */
  leftTemps(): string[] {
    return [...this.temps];
  }

  async open(file: string, flags: string, mode: number): Promise<StateFile> {
    this.check('open', file);
    const real = await NODE_STATE_FILE_SYSTEM.open(file, flags, mode);
    this.temps.add(file);
    return {
      writeFile: async (data) => {
        if (this.full) this.throwFailure('write', 'ENOSPC', file);
        this.check('write', file);
        await real.writeFile(data);
      },
      sync: async () => {
        this.check('fsync', file);
        await real.sync();
      },
      close: () => real.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', to);
    await NODE_STATE_FILE_SYSTEM.rename(from, to);
    this.temps.delete(from);
    this.renamed++;
  }

  async remove(file: string): Promise<void> {
    await NODE_STATE_FILE_SYSTEM.remove(file);
    this.temps.delete(file);
  }

  async syncDirectory(dir: string): Promise<void> {
    this.check('directory fsync', dir);
    await NODE_STATE_FILE_SYSTEM.syncDirectory(dir);
  }

  private check(call: StateFileCall, file: string): void {
    const script = this.scripted.get(call);
    if (!script || script.times <= 0) return;
    script.times--;
    this.throwFailure(call, script.code, file);
  }

  private throwFailure(call: StateFileCall, code: string, file: string): never {
    this.failures.push({ call, code });
    throw errnoError(code, call, file);
  }
}
