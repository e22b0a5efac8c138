import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGuestAnswer, REPO, startManager, waitForGuest, type RunningManager } from './harness.js';

const CLI = path.join(REPO, 'apps/cli/dist/main.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-cli-'));

describe('cocos-manager-cli against a running manager', () => {
  let m: RunningManager;
  const cli = (...args: string[]) =>
    execa('node', [CLI, ...args], { env: { PATH: process.env['PATH'] ?? '', MANAGER_GRPC_URL: `127.0.0.1:${m.grpcPort}` }, extendEnv: false, reject: false });

  beforeAll(async () => {
    m = await startManager('6490-6494', { MANAGER_VM_POWERDOWN_TIMEOUT: '2s' });
  });
  afterAll(async () => {
    await m?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  // The two VM cases boot their guests at once (each sees only its own VM).
  it.concurrent('create-vm --wait returns once the real guest answers; the other commands work on it; remove-vm removes it', async () => {
    const cert = path.join(dir, 'cert.pem');
    writeFileSync(cert, 'cli certificate\n');
    const created = await cli(
      '--json',
      'create-vm',
      '--wait',
      '--client-cert',
      cert,
      '--log-level',
      'debug',
      '--aws-region',
      'eu-west-3',
      '--kbs-params',
      'cc_kbc::http://kbs:8080',
    );
    expect(created.exitCode, created.stderr).toBe(0);
    const vm = JSON.parse(created.stdout) as { cvm_id: string; forwarded_port: string; agent_ready_after_seconds: number };
    expect(vm.agent_ready_after_seconds).toBeGreaterThan(0);
    // No retry here: --wait already waited for the agent.
    const answer = parseGuestAnswer(await (await fetch(`http://127.0.0.1:${vm.forwarded_port}/`)).text());
    expect(answer).toMatchObject({ AGENT_CVM_ID: vm.cvm_id, CERT_SHA256: createHash('sha256').update('cli certificate\n').digest('hex') });

    const list = await cli('list-vms');
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+STATE\s+PORT\s+PID/);
    expect(list.stdout).toMatch(new RegExp(`^${vm.cvm_id}\\s+running\\s+${vm.forwarded_port}\\s+\\d+`, 'm'));
    expect((await cli('vm', vm.cvm_id)).stdout).toMatch(/^state:\s+running$/m);
    expect((await cli('cvm-info', vm.cvm_id)).stdout).toMatch(/^kernel_cmd:\s+quiet console=null agent\.aa_kbc_params=cc_kbc::http:\/\/kbs:8080$/m);
    expect((await cli('logs', vm.cvm_id)).stdout).toContain(`dev-guest: agent listening on 7002 for ${vm.cvm_id}`);
    const policy = await cli('attestation-policy', vm.cvm_id, '--out', path.join(dir, 'p.json'));
    expect(policy).toMatchObject({
      exitCode: 1,
      stderr:
        'cocos-manager-cli: ATTESTATION_UNAVAILABLE: plain VMs carry no attestation: there is no TEE measurement to verify (run a sev, sev-snp or tdx backend) (FAILED_PRECONDITION)',
    });

    const removed = await cli('remove-vm', vm.cvm_id);
    expect(removed).toMatchObject({ exitCode: 0, stdout: `VM ${vm.cvm_id} removed` });
    expect((await cli('list-vms')).stdout).not.toContain(vm.cvm_id);
  });

  it.concurrent('logs --follow streams until the VM stops', async () => {
    const created = JSON.parse((await cli('--json', 'create-vm')).stdout) as { cvm_id: string; forwarded_port: string };
    const follow = cli('logs', '--follow', created.cvm_id);
    // Until the guest has booted (however long TCG takes on a busy machine), then a moment for its line to be streamed.
    await waitForGuest(Number(created.forwarded_port));
    await new Promise((r) => setTimeout(r, 1000));
    await cli('remove-vm', created.cvm_id);
    const result = await follow;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`agent listening on 7002 for ${created.cvm_id}`);
  });

  it.each([
    [['remove-vm', 'no-such-vm'], /^cocos-manager-cli: VM_NOT_FOUND: no VM with id "no-such-vm" \(NOT_FOUND\)$/],
    [['create-vm', '--ttl', 'soon'], /^cocos-manager-cli: TTL_INVALID: ttl: invalid duration "soon".* \(INVALID_ARGUMENT\)$/],
    [['create-vm', '--client-cert', '/no/such.pem'], /^cocos-manager-cli: --client-cert \/no\/such\.pem: ENOENT$/],
    [['list-vms', '--bogus'], /^error: unknown option '--bogus'$/],
  ])('%j fails with one clear line and a non-zero exit', async (args, message) => {
    const result = await cli(...args);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.split('\n')).toHaveLength(1);
  });

  it('a manager that is down is one clear line', async () => {
    const result = await execa('node', [CLI, '--server-url', '127.0.0.1:1', 'list-vms'], { reject: false });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^cocos-manager-cli: cannot reach the manager at 127\.0\.0\.1:1: /);
    expect(result.stderr.split('\n')).toHaveLength(1);
  });
});
