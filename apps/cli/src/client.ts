import { readFileSync } from 'node:fs';
import { credentials, Metadata, status, type ChannelCredentials, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { loadManagerProto, type ManagerStreamRpcs, type ManagerUnaryRpc, type ManagerUnaryRpcs } from '@cocos-manager/contract';

export interface ConnectionOptions {
  readonly serverUrl: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly timeout: number;
  /** Bearer token sent with every call (`authorization: Bearer <token>`). */
  readonly token?: string;
}

/** A failure worth one line: what went wrong, in the operator's words. */
export class CliError extends Error {}

type Unary = (req: object, md: Metadata, options: { deadline: number }, cb: (err: ServiceError | null, res: unknown) => void) => void;

function channelCredentials(o: ConnectionOptions): ChannelCredentials {
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new CliError(`${flag} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  if (!o.ca && !o.cert && !o.key) return credentials.createInsecure();
  if (!!o.cert !== !!o.key) throw new CliError('--cert and --key go together (client certificate for mTLS)');
  return credentials.createSsl(o.ca ? read(o.ca, '--ca') : null, o.key ? read(o.key, '--key') : null, o.cert ? read(o.cert, '--cert') : null);
}

/** The manager's gRPC API for one command. */
export class ManagerClient {
  private readonly client: Client & Record<string, Unary>;

  constructor(private readonly options: ConnectionOptions) {
    const { ManagerService } = loadManagerProto();
    this.client = new ManagerService(options.serverUrl, channelCredentials(options)) as Client & Record<string, Unary>;
  }

  /** One unary RPC; fields left out of the request go as their proto3 defaults. */
  call<M extends ManagerUnaryRpc>(
    method: M,
    request: Partial<ManagerUnaryRpcs[M]['request']>,
    extra: Record<string, string> = {},
  ): Promise<ManagerUnaryRpcs[M]['response']> {
    const metadata = this.metadata();
    for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
    return new Promise((resolve, reject) => {
      this.client[method]!(request, metadata, { deadline: Date.now() + this.options.timeout * 1000 }, (err, res) =>
        err ? reject(this.explain(err)) : resolve(res as ManagerUnaryRpcs[M]['response']),
      );
    });
  }

  watch(request: ManagerStreamRpcs['WatchEvents']['request']): ClientReadableStream<ManagerStreamRpcs['WatchEvents']['response']> {
    type Watch = (r: ManagerStreamRpcs['WatchEvents']['request'], md: Metadata) => ClientReadableStream<ManagerStreamRpcs['WatchEvents']['response']>;
    return (this.client as unknown as { WatchEvents: Watch }).WatchEvents(request, this.metadata());
  }

  private metadata(): Metadata {
    const metadata = new Metadata();
    if (this.options.token) metadata.set('authorization', `Bearer ${this.options.token}`);
    return metadata;
  }

  close(): void {
    this.client.close();
  }

  explain(err: ServiceError): CliError {
    if (err.code === status.UNAVAILABLE) return new CliError(`cannot reach the manager at ${this.options.serverUrl}: ${err.details}`);
    if (err.code === status.UNAUTHENTICATED && !this.options.token) {
      return new CliError(`${err.details} (UNAUTHENTICATED); give a token with --token, COCOS_MANAGER_TOKEN or --token-file`);
    }
    if (err.code === status.DEADLINE_EXCEEDED) return new CliError(`the manager at ${this.options.serverUrl} did not answer within ${this.options.timeout} s`);
    return new CliError(`${err.details} (${status[err.code]})`);
  }
}
