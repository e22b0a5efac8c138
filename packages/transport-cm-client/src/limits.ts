/**
 * What the client takes from Computation Management, at most. Everything it
 * sends is checked against these before it is acted on or kept: a server
 * that is wrong (or not the one it claims to be, past TLS) can make the
 * client refuse its requests, never grow it without bound.
 */
export const CM_LIMITS = {
  /** Largest ServerStreamMessage (gRPC's max receive length): a 1 MiB chunk and its framing, or a small whole runReq. */
  maxMessageBytes: 4 * 1024 * 1024,
  /** Largest reassembled run request (its chunks together). */
  maxRunBytes: 16 * 1024 * 1024,
  /** Runs whose chunks are arriving at once. */
  maxPartialRuns: 8,
  /** Bytes held by all partial runs together. */
  maxPartialBytes: 32 * 1024 * 1024,
  /** A partial run that got no chunk for this long is dropped (and reported failed). */
  partialIdleMs: 30_000,
  /** Longest id (computation id, chunk id) taken, in UTF-8 bytes. */
  maxIdBytes: 256,
  /** Longest terminate message logged. */
  maxLoggedText: 1024,
  /** Runs being provisioned at once (VM creates and manifest hand-overs). */
  maxRunsInFlight: 8,
  /** Other requests (stop, attestation policy) being answered at once. */
  maxRequestsInFlight: 64,
  /** Messages held for Computation Management while no stream is open or the open one is full. */
  maxQueuedMessages: 4096,
  /** Their bytes, roughly (strings and bytes fields). */
  maxQueuedBytes: 8 * 1024 * 1024,
} as const;

export type CmLimits = { readonly [K in keyof typeof CM_LIMITS]: number };
