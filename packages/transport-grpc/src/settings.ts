import { formats as f, setting } from '@cocos-manager/core';

export const grpcSettings = {
  grpc: {
    host: setting({
      env: 'MANAGER_GRPC_HOST',
      doc: 'Address the gRPC server binds. localhost (the default, as the Go manager) binds 127.0.0.1 and ::1; 0.0.0.0 every IPv4 address, :: every address; empty means 0.0.0.0. Other interfaces are an opt-in: enable TLS and authentication with them.',
      default: 'localhost',
      format: f.text,
    }),
    port: setting({ env: 'MANAGER_GRPC_PORT', doc: 'Port of the gRPC server (0: any free port).', default: '7001', format: f.listenPort }),
    serverCert: setting({
      env: 'MANAGER_GRPC_SERVER_CERT',
      doc: 'PEM certificate of the gRPC server; with the key, enables TLS.',
      default: '',
      format: f.text,
    }),
    serverKey: setting({ env: 'MANAGER_GRPC_SERVER_KEY', doc: 'PEM private key of the gRPC server.', default: '', format: f.text }),
    serverCaCerts: setting({
      env: 'MANAGER_GRPC_SERVER_CA_CERTS',
      doc: 'PEM CA certificates sent with the server certificate (its chain).',
      default: '',
      format: f.text,
    }),
    clientCaCerts: setting({
      env: 'MANAGER_GRPC_CLIENT_CA_CERTS',
      doc: 'PEM CA certificates that sign client certificates; when set, clients must present one (mTLS). Needs MANAGER_GRPC_SERVER_CERT and MANAGER_GRPC_SERVER_KEY.',
      default: '',
      format: f.text,
    }),
    timeout: setting({ env: 'MANAGER_GRPC_TIMEOUT', doc: 'Longest a request may take before it is cancelled.', default: '60s', format: f.duration }),
    maxConnections: setting({
      env: 'MANAGER_GRPC_MAX_CONNECTIONS',
      doc: 'Most open gRPC connections; one more is closed at once, before TLS or HTTP/2 (counted in manager_connections_refused_total{transport="grpc",reason="connection-limit"}).',
      default: '256',
      format: f.integer(1, 1_000_000),
    }),
    maxStreams: setting({
      env: 'MANAGER_GRPC_MAX_STREAMS',
      doc: 'Most WatchEvents streams open at once; one more is answered RESOURCE_EXHAUSTED.',
      default: '64',
      format: f.integer(1, 100_000),
    }),
    maxConcurrentStreams: setting({
      env: 'MANAGER_GRPC_MAX_CONCURRENT_STREAMS',
      doc: 'Most HTTP/2 streams (calls) one gRPC connection may have open at once (its SETTINGS_MAX_CONCURRENT_STREAMS); the client queues or is refused beyond it.',
      default: '100',
      format: f.integer(1, 10_000),
    }),
    streamBacklogBytes: setting({
      env: 'MANAGER_GRPC_STREAM_BACKLOG_BYTES',
      doc: 'Unsent bytes a WatchEvents client may fall behind by: over it and taking nothing for a second (or 8 times over it, however fast it reads), it is cut off, its stream reset (grpc clients see RESOURCE_EXHAUSTED), and counted in manager_stream_clients_dropped_total{transport="grpc",stream="WatchEvents"}.',
      default: '1M',
      format: f.byteSize,
    }),
    readTimeout: setting({
      env: 'MANAGER_GRPC_SERVER_READ_TIMEOUT',
      doc: 'A connection quiet this long is sent an HTTP/2 ping (grpc.keepalive_time_ms); Go ReadTimeout.',
      default: '15s',
      format: f.duration,
    }),
    writeTimeout: setting({
      env: 'MANAGER_GRPC_SERVER_WRITE_TIMEOUT',
      doc: 'A connection that does not answer that ping within this long is closed (grpc.keepalive_timeout_ms): a peer that stopped reading. Streams that keep reading are exempt; slow ones are cut by MANAGER_GRPC_STREAM_BACKLOG_BYTES.',
      default: '15s',
      format: f.duration,
    }),
    readHeaderTimeout: setting({
      env: 'MANAGER_GRPC_SERVER_READ_HEADER_TIMEOUT',
      doc: 'A new connection must send its first 24 bytes (the HTTP/2 preface, or the start of its TLS hello) within this long, or it is closed before TLS or HTTP/2 sees it (manager_connections_refused_total{reason="header-timeout"}).',
      default: '5s',
      format: f.duration,
    }),
    idleTimeout: setting({
      env: 'MANAGER_GRPC_SERVER_IDLE_TIMEOUT',
      doc: 'A connection with no call for this long is closed with GOAWAY (grpc.max_connection_idle_ms).',
      default: '60s',
      format: f.duration,
    }),
    maxHeaderBytes: setting({
      env: 'MANAGER_GRPC_SERVER_MAX_HEADER_BYTES',
      doc: "Largest request metadata (names and values) a call may carry; a larger one is refused with RESOURCE_EXHAUSTED before its handler. Node's HTTP/2 layer refuses header blocks over 64 KiB on its own.",
      default: '1048576',
      format: f.byteSize,
    }),
  },
};
