/** An API surface over the VM service (gRPC, HTTP, a third party's). */
export interface Transport {
  readonly name: string;
  /** Starts serving; resolves once it accepts requests. */
  start(): Promise<void>;
  /** Stops accepting and finishes or cancels in-flight requests. */
  stop(): Promise<void>;
  /** Where it listens, for logs (`0.0.0.0:7001`), once started. */
  address(): string;
}
