import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The host as backends probe it. `rootDir` prefixes `/proc` and `/sys` reads,
 * so tests replay recorded host files instead of the machine's own.
 */
export interface HostFiles {
  /** Prefix of every absolute path read (`/` on a real host). */
  readonly rootDir: string;
  /** A host file's text, or undefined when it cannot be read. */
  readText(absolutePath: string): Promise<string | undefined>;
}

/** The host's files under `rootDir` (the HOST token's value). */
export class HostEnvironment implements HostFiles {
  constructor(readonly rootDir: string = '/') {}

  async readText(absolutePath: string): Promise<string | undefined> {
    try {
      return await readFile(path.join(this.rootDir, absolutePath), 'utf8');
    } catch {
      return undefined;
    }
  }
}

/** A backend's answer to "can this host run you?". */
export interface ProbeResult {
  readonly available: boolean;
  /** Why not (or, when available, what was found). */
  readonly reason: string;
}

/** A confidential backend's probe result, refused when KVM is off: hardware-isolated guests cannot run under TCG. */
export function requireKvm(result: ProbeResult, kvmEnabled: boolean, tee: string): ProbeResult {
  if (result.available && !kvmEnabled) return { available: false, reason: `${tee} guests need KVM, but MANAGER_QEMU_ENABLE_KVM=false` };
  return result;
}
