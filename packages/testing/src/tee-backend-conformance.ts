import { describeConformance } from './conformance-case.js';
import { teeBackendConformanceCases } from './tee-conformance-cases.js';
import type { TeeBackendConformanceOptions } from './tee-conformance-env.js';

export { teeBackendConformanceCases } from './tee-conformance-cases.js';
export type { TeeBackendConformanceOptions } from './tee-conformance-env.js';

/**
 * The rules every TeeBackend must keep, as vitest tests. Call it at the top
 * level of a test file:
 *
 *   describeTeeBackendConformance({ plugin: myPlugin, backendName: 'my-tee', attestation: 'document' });
 *
 * Each rule is a named case (teeBackendConformanceCases): `resolves`,
 * `selection`, `probe`, `contribution`, `files`, `attestation`, `validate`.
 */
export function describeTeeBackendConformance(options: TeeBackendConformanceOptions): void {
  describeConformance(`TeeBackend conformance: ${options.backendName} (${options.plugin.name})`, teeBackendConformanceCases(options));
}
