import type { ApiOperation, Role } from '../api/api-auth.js';

export type { ApiOperation, Role };

const REQUIRED: Readonly<Record<ApiOperation, Role | null>> = {
  create: 'admin',
  remove: 'admin',
  list: 'reader',
  get: 'reader',
  info: 'reader',
  policy: 'reader',
  console: 'reader',
  events: 'reader',
  // Liveness probes and metrics scrapers carry no credentials.
  health: null,
};

/** The least role an operation needs; null for one anybody may call. */
export function requiredRole(operation: ApiOperation): Role | null {
  return REQUIRED[operation];
}

/** Whether `role` may perform `operation`. */
export function allows(role: Role, operation: ApiOperation): boolean {
  const needed = REQUIRED[operation];
  return needed === null || needed === 'reader' || role === 'admin';
}
