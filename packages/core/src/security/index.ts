export { authSettings } from './auth-settings.js';
export { allows, requiredRole, type ApiOperation, type Role } from './roles.js';
export { readTokenFile, type TokenEntry } from './token-file.js';
export { Authenticator, type ApiAuth, type Caller, type ClientCertificate, type Credentials } from './authenticator.js';
export { canonicalIp, decodeProcAddress, findLocalPeerSocket, processHoldsSocket, type ConnectionEnds, type LocalPeerSocket } from './socket-owner.js';
export { VmOriginGuard, type ConnectionGuard, type ConnectionVerdict } from './vm-origin-guard.js';
