import { createToken } from '../tokens.js';

/** One file a page contribution serves. */
export interface HttpPageFile {
  readonly body: Uint8Array;
  readonly contentType: string;
}

/**
 * Static pages a plugin adds to the HTTP transport (an operator console, docs…),
 * under its own URL prefix. The files are public, as `/health` is: what they
 * show comes from the API, which checks every call. Pages on the manager's own
 * origin may call the API from the browser (same origin, allowed Host).
 */
export interface HttpPages {
  /** URL prefix, starting with `/` and without a trailing one (`/console`). */
  readonly prefix: string;
  /** Headers sent with every file (Content-Security-Policy…). */
  readonly headers: Readonly<Record<string, string>>;
  /** The file at `path` below the prefix (`''` is the index), or null for a 404. */
  file(path: string): Promise<HttpPageFile | null>;
}

/** Static page contributions served by the HTTP transport (plugins). */
export const HTTP_PAGES = createToken<HttpPages>('http.pages', { multi: true });
