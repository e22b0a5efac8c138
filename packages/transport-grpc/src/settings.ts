import { formats as f, setting } from '@cocos-manager/core';

export const grpcSettings = {
  grpc: {
    host: setting({ env: 'MANAGER_GRPC_HOST', doc: 'Address the gRPC server binds (empty: every IPv4 address).', default: '', format: f.text }),
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
      doc: 'PEM CA certificates that sign client certificates; when set, clients must present one (mTLS).',
      default: '',
      format: f.text,
    }),
    timeout: setting({ env: 'MANAGER_GRPC_TIMEOUT', doc: 'Longest a request may take before it is cancelled.', default: '60s', format: f.duration }),
  },
};
