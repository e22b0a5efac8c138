import { execa } from 'execa';
import { ManagerError } from '@cocos-manager/core';

/** What a client is told (no host path, no tool output: those are the error's detail, for the operator). */
export const UNMEASURED = 'the launch measurement of the IGVM file could not be computed';

/** An SNP launch digest is SHA-384. */
export const LAUNCH_DIGEST_BYTES = 48;

/**
 * The expected launch measurement of an IGVM file, from
 * `igvmmeasure <file> measure -b` (one line of hex). Anything else —
 * missing binary, non-zero exit, other output — is an error whose detail
 * names the binary and quotes what it printed.
 */
export async function measureIgvm(binary: string, igvmFile: string): Promise<Buffer> {
  const result = await execa(binary, [igvmFile, 'measure', '-b'], { reject: false, stdin: 'ignore', timeout: 60_000 });
  const printed = `${result.stdout ?? ''}${result.stderr ? ` ${result.stderr}` : ''}`.trim().slice(0, 500);
  if (result.exitCode === undefined) {
    throw new ManagerError(
      'LAUNCH_MEASUREMENT_FAILED',
      `${UNMEASURED}: igvmmeasure could not run (set MANAGER_IGVMMEASURE_BINARY or MANAGER_ATTESTATION_POLICY_BINARY_PATH)`,
      { detail: `igvmmeasure ${JSON.stringify(binary)} could not run: ${result.originalMessage ?? result.shortMessage}` },
    );
  }
  if (result.exitCode !== 0) {
    throw new ManagerError('LAUNCH_MEASUREMENT_FAILED', `${UNMEASURED}: igvmmeasure failed with exit status ${result.exitCode}`, {
      detail: `igvmmeasure ${JSON.stringify(binary)} failed on ${igvmFile} with exit status ${result.exitCode}: ${printed || '(no output)'}`,
    });
  }
  const lines = result.stdout.trim().split(/\r?\n/);
  const hex = (lines[0] ?? '').trim().toLowerCase().replace(/^0x/, '');
  if (lines.length !== 1 || !/^[0-9a-f]+$/.test(hex) || hex.length !== LAUNCH_DIGEST_BYTES * 2) {
    throw new ManagerError('LAUNCH_MEASUREMENT_FAILED', `${UNMEASURED}: igvmmeasure printed something other than a launch digest`, {
      detail: `igvmmeasure ${JSON.stringify(binary)} printed ${JSON.stringify(printed)}, expected one line of ${LAUNCH_DIGEST_BYTES * 2} hex digits (the SHA-384 launch digest)`,
    });
  }
  return Buffer.from(hex, 'hex');
}
