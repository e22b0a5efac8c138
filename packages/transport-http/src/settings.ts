import { formats as f, setting } from '@cocos-manager/core';

export const httpSettings = {
  http: {
    host: setting({ env: 'MANAGER_HTTP_HOST', doc: 'Address the HTTP server binds (empty: every IPv4 address).', default: '', format: f.text }),
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
  },
};
