import * as f from '../config/formats.js';
import { setting } from '../api/settings.js';

/** Who may call the API: shared by every transport. Empty everywhere: no authentication (as the Go manager). */
export const authSettings = {
  auth: {
    tokensFile: setting({
      env: 'MANAGER_AUTH_TOKENS_FILE',
      doc: 'File of bearer tokens, one per line as `<role> <name> <token>` (role reader or admin; token at least 32 characters; # comments). The file must not be readable by group or others. When set, every API call needs a token or a mapped client certificate.',
      default: '',
      format: f.text,
    }),
    mtlsAdmins: setting({
      env: 'MANAGER_AUTH_MTLS_ADMINS',
      doc: 'Comma-separated client certificate identities (subject CN or a DNS/URI/email SAN) given the admin role. With MANAGER_AUTH_MTLS_READERS, mTLS clients must be listed; when both are empty, any client certificate the CA signed is admin (as before).',
      default: '',
      format: f.text,
    }),
    mtlsReaders: setting({
      env: 'MANAGER_AUTH_MTLS_READERS',
      doc: 'Comma-separated client certificate identities (subject CN or a SAN) given the reader role: list, get, CVM info, attestation policy, console, events.',
      default: '',
      format: f.text,
    }),
  },
};
