import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dirEntries,
  portIsBindable,
  parseGuestAnswer,
  pidsWithArg,
  processState,
  startManager,
  until,
  waitForGuest,
  type RunningManager,
  type CreatedVm as Created,
  type WireVm as VmInfo,
} from './harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

describe('the real cocos-manager binary, real QEMU, real gRPC', () => {
  let m: RunningManager;
  const secret = {
    cert: `-----BEGIN CERTIFICATE-----\nCERT-${randomBytes(8).toString('hex')}\n-----END CERTIFICATE-----\n`,
    key: `-----BEGIN PRIVATE KEY-----\nKEY-${randomBytes(12).toString('hex')}\n-----END PRIVATE KEY-----\n`,
    ca: `-----BEGIN CERTIFICATE-----\nCA-${randomBytes(8).toString('hex')}\n-----END CERTIFICATE-----\n`,
    aws: `aws-secret-${randomBytes(12).toString('hex')}`,
  };

  beforeAll(async () => {
    m = await startManager('6310-6319', { MANAGER_STOP_VMS_ON_EXIT: 'true', MANAGER_VM_POWERDOWN_TIMEOUT: '2s' });
  });
  afterAll(async () => {
    await m?.dispose();
  });

  it('creates a VM whose guest gets its configuration, and removes it without a trace', async () => {
    const created = await m.call<Created>('CreateVm', {
      agent_log_level: 'debug',
      agent_cvm_server_ca_cert: Buffer.from(secret.ca),
      agent_cvm_client_key: Buffer.from(secret.key),
      agent_cvm_client_cert: Buffer.from(secret.cert),
      agent_cvm_server_url: 'cvms.example:7001',
      agent_cvm_ca_url: 'https://ca.example',
      agent_certs_token: 'certs-token',
      aws_access_key_id: 'AKIAEXAMPLE',
      aws_secret_access_key: secret.aws,
      aws_endpoint_url: 'http://minio.example:9000',
      aws_region: 'us-east-1',
      aa_kbs_params: 'cc_kbc::http://kbs.example:8080',
    });
    const port = Number(created.forwarded_port);
    expect(port).toBeGreaterThanOrEqual(6310);
    expect(port).toBeLessThanOrEqual(6319);
    expect(created.cvm_id).toMatch(/^[0-9a-f-]{36}$/);

    const answer = parseGuestAnswer(await waitForGuest(port));
    expect(answer['AGENT_CVM_ID']).toBe(created.cvm_id);
    expect(answer['CERT_SHA256']).toBe(sha256(secret.cert));
    expect(answer['ENV_KEYS']?.split(',')).toEqual([
      'AGENT_LOG_LEVEL',
      'AGENT_CVM_GRPC_URL',
      'AGENT_CVM_ID',
      'AGENT_CERTS_TOKEN',
      'AGENT_CVM_CA_URL',
      'AGENT_CVM_GRPC_CLIENT_CERT',
      'AGENT_CVM_GRPC_CLIENT_KEY',
      'AGENT_CVM_GRPC_SERVER_CA_CERTS',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_ENDPOINT_URL',
      'AWS_REGION',
    ]);

    // The plain backend's firmware is Debian's OVMF: its release, as dpkg says (2022.11-6 → edk2-stable202211).
    const ovmf = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'ovmf'], { encoding: 'utf8' });
    expect(await m.call('CVMInfo', { id: created.cvm_id })).toEqual({
      id: created.cvm_id,
      ovmf_version: `edk2-stable${ovmf.slice(0, 4)}${ovmf.slice(5, 7)}`,
      cpu_num: 1,
      cpu_type: 'EPYC',
      // The default kernel command line (MANAGER_QEMU_KERNEL_CMDLINE unset), as the real HAL boots: the dev guest answered above with it.
      kernel_cmd: 'quiet console=null agent.aa_kbc_params=cc_kbc::http://kbs.example:8080',
      eos_version: '',
    });
    await expect(m.call('AttestationPolicy', { id: created.cvm_id })).rejects.toMatchObject({ code: status.FAILED_PRECONDITION });

    const vm = await m.call<VmInfo>('GetVm', { id: created.cvm_id });
    expect(vm).toMatchObject({ id: created.cvm_id, state: 'running', forwarded_port: String(port) });
    expect(processState(vm.pid)).not.toBeNull();
    expect(pidsWithArg(m.runDir)).toEqual([vm.pid]);
    expect(dirEntries(m.runDir)).toEqual([created.cvm_id]);

    await m.call('RemoveVm', { cvm_id: created.cvm_id });
    expect(processState(vm.pid)).toBeNull(); // not running, not a zombie
    // A booted guest is stopped gracefully: ACPI power-down, its init powers off (exit reason: the console's last lines).
    const stopped = m
      .output()
      .split('\n')
      .find((l) => l.includes(created.cvm_id) && l.includes('"state":"stopped"'));
    expect(stopped).toContain('dev-guest: power button pressed; powering off');
    expect(m.output()).not.toMatch(new RegExp(`${created.cvm_id}.*did not power off`));
    expect(pidsWithArg(m.runDir)).toEqual([]);
    expect(dirEntries(m.runDir)).toEqual([]);
    expect(await portIsBindable(port)).toBe(true);
    expect(await m.call('ListVms', {})).toEqual({ vms: [], next_page_token: '' });
    await expect(m.call('RemoveVm', { cvm_id: created.cvm_id })).rejects.toMatchObject({ code: status.NOT_FOUND });

    // Secrets reach the guest, never the manager's log.
    const log = m.output();
    expect(log).toContain(created.cvm_id);
    for (const s of [secret.aws, secret.key, 'KEY-', secret.cert, secret.ca]) expect(log).not.toContain(s.trim());
  });

  it('runs two VMs at once, each with its own port and identity', async () => {
    const [a, b] = await Promise.all([
      m.call<Created>('CreateVm', { agent_cvm_client_key: Buffer.from(secret.key) }),
      m.call<Created>('CreateVm', { aws_region: 'eu-central-1' }),
    ]);
    expect(a!.forwarded_port).not.toBe(b!.forwarded_port);
    const [answerA, answerB] = (await Promise.all([waitForGuest(Number(a!.forwarded_port)), waitForGuest(Number(b!.forwarded_port))])).map(parseGuestAnswer);
    expect(answerA!['AGENT_CVM_ID']).toBe(a!.cvm_id);
    expect(answerB!['AGENT_CVM_ID']).toBe(b!.cvm_id);
    // Cert paths only for the bytes that were sent; AWS keys only when non-empty.
    expect(answerA!['ENV_KEYS']).toContain('AGENT_CVM_GRPC_CLIENT_KEY');
    expect(answerA!['ENV_KEYS']).not.toContain('AGENT_CVM_GRPC_CLIENT_CERT');
    expect(answerA!['ENV_KEYS']).not.toContain('AWS_');
    expect(answerA!['CERT_SHA256']).toBe(sha256(''));
    expect(answerB!['ENV_KEYS']?.split(',').filter((k) => k.startsWith('AWS_') || k.includes('CERT_') || k.includes('CLIENT'))).toEqual(['AWS_REGION']);
    expect(pidsWithArg(m.runDir)).toHaveLength(2);
    await Promise.all([m.call('RemoveVm', { cvm_id: a!.cvm_id }), m.call('RemoveVm', { cvm_id: b!.cvm_id })]);
    expect(pidsWithArg(m.runDir)).toEqual([]);
    expect(dirEntries(m.runDir)).toEqual([]);
  });

  it('refuses a bad ttl before starting anything', async () => {
    await expect(m.call('CreateVm', { ttl: 'banana' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('ttl') });
    expect(pidsWithArg(m.runDir)).toEqual([]);
    expect(dirEntries(m.runDir)).toEqual([]);
  });

  it('removes a VM by itself when its ttl runs out', async () => {
    const created = await m.call<Created>('CreateVm', { ttl: '3s' });
    const vm = await m.call<VmInfo & { ttl_deadline: string }>('GetVm', { id: created.cvm_id });
    expect(Date.parse(vm.ttl_deadline) - Date.now()).toBeLessThanOrEqual(3000);
    await until(async () => (await m.call<{ vms: unknown[] }>('ListVms', {})).vms.length === 0, 20_000, 'the TTL to remove the VM');
    expect(processState(vm.pid)).toBeNull();
    expect(dirEntries(m.runDir)).toEqual([]);
    expect(await portIsBindable(Number(created.forwarded_port))).toBe(true);
  });

  it('stops cleanly on SIGTERM with exit code 0', async () => {
    const created = await m.call<Created>('CreateVm', {});
    const vm = await m.call<VmInfo>('GetVm', { id: created.cvm_id });
    const runDir = m.runDir;
    expect(await m.stop()).toBe(0);
    expect(processState(vm.pid)).toBeNull();
    expect(pidsWithArg(runDir)).toEqual([]);
  });
});

describe('MANAGER_MAX_VMS', () => {
  let m: RunningManager;
  beforeAll(async () => {
    m = await startManager('6320-6329', { MANAGER_MAX_VMS: '1', MANAGER_VM_POWERDOWN_TIMEOUT: '0s' });
  });
  afterAll(async () => {
    await m?.dispose();
  });

  it('refuses the VM over the limit with RESOURCE_EXHAUSTED and leaks nothing', async () => {
    const first = await m.call<Created>('CreateVm', {});
    await expect(m.call('CreateVm', { aws_secret_access_key: 'x' })).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: expect.stringContaining('MANAGER_MAX_VMS=1'),
    });
    expect(pidsWithArg(m.runDir)).toHaveLength(1);
    expect(dirEntries(m.runDir)).toEqual([first.cvm_id]);
    expect((await m.call<{ vms: unknown[] }>('ListVms', {})).vms).toHaveLength(1);
    await m.call('RemoveVm', { cvm_id: first.cvm_id });
    // The slot is free again.
    const again = await m.call<Created>('CreateVm', {});
    expect(again.forwarded_port).toBe(first.forwarded_port);
    await m.call('RemoveVm', { cvm_id: again.cvm_id });
    expect(pidsWithArg(m.runDir)).toEqual([]);
  });
});
