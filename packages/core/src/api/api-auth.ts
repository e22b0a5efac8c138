/** What a caller may do: `reader` reads, `admin` also creates and removes VMs. */
export type Role = 'reader' | 'admin';

/** Every API operation, by what it does (the transports map their routes and RPCs onto these). */
export type ApiOperation = 'create' | 'remove' | 'list' | 'get' | 'info' | 'policy' | 'console' | 'events' | 'health';

/** Who is calling, as a transport established it. */
export interface Caller {
  /** The token's name, or the certificate identity; `anonymous` without authentication. */
  readonly identity: string;
  readonly role: Role;
  readonly via: 'token' | 'mtls' | 'none';
}

/** A verified client certificate, as TLS reports it (node's PeerCertificate shape). */
export interface ClientCertificate {
  readonly subject?: { readonly CN?: string | string[] } | null;
  readonly subjectaltname?: string;
}

/** What a transport learnt of a call: its bearer token (if any) and its verified client certificate (if any). */
export interface Credentials {
  readonly bearer: string | null;
  readonly certificate: ClientCertificate | null;
}

/** Authentication and roles for every transport (AUTHENTICATOR token). */
export interface ApiAuth {
  /** Whether calls must be authenticated (tokens or mTLS identities configured). */
  readonly enabled: boolean;
  /** The caller, or throws UNAUTHENTICATED / PERMISSION_DENIED for `operation`. */
  authorize(credentials: Credentials, operation: ApiOperation): Caller;
}
