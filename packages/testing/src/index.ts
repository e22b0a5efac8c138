export { describeTeeBackendConformance, type TeeBackendConformanceOptions } from './tee-backend-conformance.js';
export { inertBackendPlugin } from './inert-backend.js';
export { makeTestPki, type TestPki } from './test-pki.js';
