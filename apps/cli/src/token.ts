import { readFileSync, statSync } from 'node:fs';
import { CliError } from './client.js';

/**
 * The bearer token from --token-file: a file only its owner may read (0600
 * or 0400), holding the token on its first line. Anything else is one line
 * that never shows the token.
 */
export function readTokenFile(file: string): string {
  let text: string;
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0)
      throw new CliError(`--token-file ${file}: readable by group or others (mode ${mode.toString(8)}); expected 0600 or 0400 (chmod 600 ${file})`);
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`--token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const token = (text.split('\n')[0] ?? '').trim();
  if (token === '') throw new CliError(`--token-file ${file}: expected the token on its first line, found none`);
  if (/\s/.test(token)) throw new CliError(`--token-file ${file}: the first line holds spaces; expected the token alone`);
  return token;
}

/** A token given on the command line or in COCOS_MANAGER_TOKEN: one word, no spaces. */
export function checkToken(token: string, source: string): string {
  if (token === '' || /\s/.test(token)) throw new CliError(`${source}: expected a token without spaces`);
  return token;
}
