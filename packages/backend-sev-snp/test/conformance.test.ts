import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { describeTeeBackendConformance } from '@cocos-manager/testing';
import plugin from '../src/index.js';

// An IGVM file (the magic is what validate checks) and an igvmmeasure stand-in printing its digest:
// with them the backend builds its policy document, so the conformance suite checks the document
// (a plugin's tests may not load @cocos-manager/measure, which would compute the digest natively).
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-snp-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const igvm = path.join(dir, 'svsm.igvm');
writeFileSync(igvm, Buffer.concat([Buffer.from('IGVM'), Buffer.alloc(12)]));
const igvmmeasure = path.join(dir, 'igvmmeasure');
writeFileSync(igvmmeasure, `#!/bin/sh\necho ${'a1'.repeat(48)}\n`);
chmodSync(igvmmeasure, 0o755);

describeTeeBackendConformance({
  plugin,
  backendName: 'sev-snp',
  env: { MANAGER_QEMU_ENABLE_KVM: 'false', MANAGER_QEMU_IGVM_FILE: igvm, MANAGER_IGVMMEASURE_BINARY: igvmmeasure },
  attestation: 'document',
  invalidEnv: { MANAGER_QEMU_IGVM_FILE: path.join(dir, 'missing.igvm') },
});
