import { formats as f, setting } from '@cocos-manager/core';

export const httpSettings = {
  http: {
    host: setting({
      env: 'MANAGER_HTTP_HOST',
      doc: 'Address the HTTP server binds. localhost (the default, as the Go manager) binds 127.0.0.1 and ::1; 0.0.0.0 every IPv4 address, :: every address; empty means 0.0.0.0.',
      default: 'localhost',
      format: f.text,
    }),
    port: setting({ env: 'MANAGER_HTTP_PORT', doc: 'Port of the HTTP server (0: any free port).', default: '7003', format: f.listenPort }),
    serverCert: setting({
      env: 'MANAGER_HTTP_SERVER_CERT',
      doc: 'PEM certificate of the HTTP server; with the key, enables HTTPS.',
      default: '',
      format: f.text,
    }),
    serverKey: setting({ env: 'MANAGER_HTTP_SERVER_KEY', doc: 'PEM private key of the HTTP server.', default: '', format: f.text }),
    serverCaCerts: setting({
      env: 'MANAGER_HTTP_SERVER_CA_CERTS',
      doc: 'PEM CA certificates sent with the server certificate (its chain).',
      default: '',
      format: f.text,
    }),
    clientCaCerts: setting({
      env: 'MANAGER_HTTP_CLIENT_CA_CERTS',
      doc: 'PEM CA certificates that sign client certificates; when set, clients must present one (mTLS).',
      default: '',
      format: f.text,
    }),
    restWrites: setting({
      env: 'MANAGER_HTTP_REST_WRITES',
      doc: "Serve the REST mirror's mutating routes (POST /vms, DELETE /vms/:id). Off by default: they answer 404 NOT_FOUND, as routes that do not exist.",
      default: 'false',
      format: f.boolean,
    }),
    allowedOrigins: setting({
      env: 'MANAGER_HTTP_ALLOWED_ORIGINS',
      doc: 'Comma-separated browser origins (scheme://host[:port]) whose requests are served. A request carrying any other Origin header is refused with 403, reads included; empty: no browser origin at all.',
      default: '',
      format: f.text,
    }),
    allowedHosts: setting({
      env: 'MANAGER_HTTP_ALLOWED_HOSTS',
      doc: "Comma-separated host names a request's Host header may name, besides localhost, IP addresses and MANAGER_HTTP_HOST (DNS-rebinding protection). Any other Host is refused with 403.",
      default: '',
      format: f.text,
    }),
    maxConnections: setting({
      env: 'MANAGER_HTTP_MAX_CONNECTIONS',
      doc: 'Most open HTTP connections; a connection beyond it is closed at once (counted in manager_connections_refused_total{reason="connection-limit"}).',
      default: '256',
      format: f.integer(1, 1_000_000),
    }),
    maxStreams: setting({
      env: 'MANAGER_HTTP_MAX_STREAMS',
      doc: 'Most open long-lived responses (/events, console ?follow) at once; one more is answered 503 RESOURCE_EXHAUSTED.',
      default: '64',
      format: f.integer(1, 100_000),
    }),
    streamBacklogBytes: setting({
      env: 'MANAGER_HTTP_STREAM_BACKLOG_BYTES',
      doc: 'Unsent bytes a stream client may fall behind by before it is cut off (counted in manager_stream_clients_dropped_total).',
      default: '1M',
      format: f.byteSize,
    }),
    readTimeout: setting({
      env: 'MANAGER_HTTP_SERVER_READ_TIMEOUT',
      doc: 'Longest time to receive a whole request, headers and body (node requestTimeout; Go ReadTimeout).',
      default: '15s',
      format: f.duration,
    }),
    writeTimeout: setting({
      env: 'MANAGER_HTTP_SERVER_WRITE_TIMEOUT',
      doc: 'Longest time from the end of the request headers to the end of the response; its connection is closed after it. Streams are exempt.',
      default: '15s',
      format: f.duration,
    }),
    readHeaderTimeout: setting({
      env: 'MANAGER_HTTP_SERVER_READ_HEADER_TIMEOUT',
      doc: "Longest time to receive a request's headers, from the connection or the previous response (node headersTimeout); at most the read timeout.",
      default: '5s',
      format: f.duration,
    }),
    idleTimeout: setting({
      env: 'MANAGER_HTTP_SERVER_IDLE_TIMEOUT',
      doc: 'How long a keep-alive connection may wait for its next request (node keepAliveTimeout).',
      default: '60s',
      format: f.duration,
    }),
    maxHeaderBytes: setting({
      env: 'MANAGER_HTTP_SERVER_MAX_HEADER_BYTES',
      doc: 'Largest request line and headers, in bytes (node maxHeaderSize); larger ones are answered 431.',
      default: '1048576',
      format: f.integer(1024, 64 * 1024 * 1024),
    }),
  },
};
