import { ERROR_CATALOGUE, type ErrorCatalogueEntry, type ErrorKind } from './catalogue.js';
import { ManagerError } from './manager-error.js';

/** What a transport sends for a failure: the catalogue entry and the message a client may see. */
export interface ClientError extends ErrorCatalogueEntry {
  /** The stable code. */
  readonly reason: ErrorKind;
  /** `CODE: text`, the same on every transport. */
  readonly message: string;
  /** The request field the failure is about (`ttl`, `aa_kbs_params`…), when it is about one: what a form marks. */
  readonly field: string | undefined;
  /** The operator's detail of a ManagerError (for the log only). */
  readonly detail: string | undefined;
  /**
   * True when the client gets the catalogue's generic text rather than the
   * error's own (no ManagerError: a bug, an unforeseen failure; or a start-up
   * kind of error whose text was written for the operator): the transport
   * logs the real error.
   */
  readonly unexpected: boolean;
}

/**
 * Any thrown value as the client should see it: a call-scope ManagerError
 * with its own message (written for the client; the catalogue's when empty),
 * anything else with its entry's generic text (INTERNAL_ERROR's "internal
 * error" for what is no ManagerError). The stable code leads the message
 * (`VM_NOT_FOUND: …`), so even a client that reads only the text has it.
 */
export function clientErrorOf(err: unknown): ClientError {
  const known = err instanceof ManagerError;
  const reason: ErrorKind = known ? err.kind : 'INTERNAL_ERROR';
  const entry: ErrorCatalogueEntry = ERROR_CATALOGUE[reason];
  const ownText = known && entry.scope === 'call';
  const text = (ownText && err.message) || entry.clientMessage;
  const field = ownText && typeof err.fields['field'] === 'string' ? err.fields['field'] : undefined;
  return { ...entry, reason, message: `${reason}: ${text}`, field, detail: known ? err.detail : undefined, unexpected: !ownText };
}
