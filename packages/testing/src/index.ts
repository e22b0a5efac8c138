export { describeTeeBackendConformance, type TeeBackendConformanceOptions } from './tee-backend-conformance.js';
