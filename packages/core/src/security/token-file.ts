import { lstatSync, readFileSync } from 'node:fs';
import { ConfigError } from '../config/manager-config.js';
import type { Role } from './roles.js';

export interface TokenEntry {
  readonly role: Role;
  readonly name: string;
  readonly token: Buffer;
}

const MIN_TOKEN_LENGTH = 32;
const VARIABLE = 'MANAGER_AUTH_TOKENS_FILE';

/**
 * Reads the bearer tokens file: `<role> <name> <token>` per line. Refuses,
 * with one line that never shows a token, a symbolic link, a file owned by
 * anyone but this manager's user or root (a local user's file would hand them
 * the API), a file others can read, a bad role, a short token, a duplicate
 * name or token.
 */
export function readTokenFile(file: string): TokenEntry[] {
  let text: string;
  try {
    const st = lstatSync(file);
    const uid = process.getuid?.();
    if (st.isSymbolicLink()) throw new ConfigError(`${VARIABLE}=${JSON.stringify(file)}: the file is a symbolic link; expected the tokens file itself`);
    if (!st.isFile()) throw new ConfigError(`${VARIABLE}=${JSON.stringify(file)}: not a regular file`);
    if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
      throw new ConfigError(`${VARIABLE}=${JSON.stringify(file)}: the file is owned by uid ${st.uid}; expected this manager's uid ${uid} or root`);
    }
    const mode = st.mode;
    if ((mode & 0o077) !== 0) {
      throw new ConfigError(
        `${VARIABLE}=${JSON.stringify(file)}: the file is readable by group or others (mode ${(mode & 0o777).toString(8)}); expected 0600 or 0400`,
      );
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(`${VARIABLE}=${JSON.stringify(file)}: expected a readable tokens file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const entries: TokenEntry[] = [];
  const names = new Set<string>();
  const tokens = new Set<string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${VARIABLE} line ${index + 1}`;
    const parts = line.split(/\s+/);
    const [role, name, token] = parts;
    if (parts.length !== 3 || role === undefined || name === undefined || token === undefined) {
      throw new ConfigError(`${where}: expected "<role> <name> <token>" (three fields separated by spaces)`);
    }
    if (role !== 'reader' && role !== 'admin') throw new ConfigError(`${where}: role "${role}" is not reader or admin`);
    if (token.length < MIN_TOKEN_LENGTH) throw new ConfigError(`${where}: the token of "${name}" is shorter than ${MIN_TOKEN_LENGTH} characters`);
    if (names.has(name)) throw new ConfigError(`${where}: the name "${name}" is used twice`);
    if (tokens.has(token)) throw new ConfigError(`${where}: the token of "${name}" is also another entry's token`);
    names.add(name);
    tokens.add(token);
    entries.push({ role, name, token: Buffer.from(token, 'utf8') });
  });
  if (entries.length === 0) throw new ConfigError(`${VARIABLE}=${JSON.stringify(file)}: the file holds no token`);
  return entries;
}
