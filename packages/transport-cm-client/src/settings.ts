import { formats as f, parseGoDuration, setting, type SettingFormat } from '@cocos-manager/core';

/** A Go duration, or empty for "as MANAGER_GRPC_TIMEOUT" (null). Milliseconds. */
const optionalDuration: SettingFormat<number | null> = {
  expected: 'a positive Go duration such as 10s or 1m30s, or empty',
  parse(raw) {
    if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) return null;
    const ms = typeof raw === 'string' ? parseGoDuration(raw.trim()) : Number.NaN;
    if (!(ms > 0)) throw new Error('not a positive duration');
    return ms;
  },
};

/** A gRPC target: `host:port`, `dns:host:port`, `unix:/path`; no whitespace. */
const target: SettingFormat<string> = {
  expected: 'a gRPC target such as cm.example:7001, dns:cm.example:7001 or unix:/run/cm.sock',
  parse(raw) {
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (text === '' || /\s/.test(text) || text.length > 1024) throw new Error('not a target');
    return text;
  },
};

/**
 * The Computation Management client's settings (seeds/002 names where it has
 * them). MANAGER_GRPC_SERVER_CA_CERTS and MANAGER_GRPC_TIMEOUT are the gRPC
 * server transport's variables (one variable is declared by one plugin): the
 * client reads their values when that plugin is loaded, and its own
 * MANAGER_CM_SERVER_CA_CERTS and MANAGER_CM_TIMEOUT win when set (see
 * client-options.ts).
 */
export const cmClientSettings = {
  cmClient: {
    enable: setting({
      env: 'MANAGER_CM_CLIENT_ENABLE',
      doc: "Computation Management client mode (seeds/002): the manager dials MANAGER_GRPC_URL and takes run requests over upstream's ManagerService.Process stream. Off by default (the four-RPC server is the manager's API either way).",
      default: 'false',
      format: f.boolean,
    }),
    url: setting({
      env: 'MANAGER_GRPC_URL',
      doc: 'Address of Computation Management (client mode only; cocos-manager-cli reads the same name as the manager address it calls).',
      default: 'localhost:7001',
      format: target,
    }),
    clientCert: setting({
      env: 'MANAGER_GRPC_CLIENT_CERT',
      doc: 'PEM certificate the client presents to Computation Management (mTLS); with MANAGER_GRPC_CLIENT_KEY, never alone.',
      default: '',
      format: f.text,
    }),
    clientKey: setting({
      env: 'MANAGER_GRPC_CLIENT_KEY',
      doc: 'PEM private key of MANAGER_GRPC_CLIENT_CERT.',
      default: '',
      format: f.text,
    }),
    serverCaCerts: setting({
      env: 'MANAGER_CM_SERVER_CA_CERTS',
      doc: "PEM CA certificates that sign Computation Management's certificate (TLS). Wins over MANAGER_GRPC_SERVER_CA_CERTS, which the client takes (as seeds/002 does) only while the gRPC server has no certificate of its own (MANAGER_GRPC_SERVER_CERT empty): there it is the server's chain. With no CA and no client certificate the client dials in plaintext; with a client certificate and no CA it trusts the system's roots.",
      default: '',
      format: f.text,
    }),
    timeout: setting({
      env: 'MANAGER_CM_TIMEOUT',
      doc: 'Longest a connection to Computation Management may take to become ready (TCP, TLS, HTTP/2) before the attempt is dropped and retried. Empty: MANAGER_GRPC_TIMEOUT (the seeds/002 name) when the gRPC server transport is loaded, else 60s.',
      default: '',
      format: optionalDuration,
    }),
    reconnectMinDelay: setting({
      env: 'MANAGER_CM_RECONNECT_MIN_DELAY',
      doc: 'First wait before dialling Computation Management again after a stream ended or a dial failed; doubled after each failed attempt up to MANAGER_CM_RECONNECT_MAX_DELAY, each wait jittered (50-100 %).',
      default: '1s',
      format: f.duration,
    }),
    reconnectMaxDelay: setting({
      env: 'MANAGER_CM_RECONNECT_MAX_DELAY',
      doc: 'Longest wait between two dials to Computation Management; also the pause after it sent terminateReq.',
      default: '30s',
      format: f.duration,
    }),
  },
};
