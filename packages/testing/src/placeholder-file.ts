import { fileURLToPath } from 'node:url';

/**
 * A file that exists and can be read (this module's own): what a test gives
 * as a boot file that must exist but is never read — the fake launcher runs
 * no QEMU. Nothing is written for it, so nothing is left behind.
 */
export const PLACEHOLDER_FILE = fileURLToPath(import.meta.url);
