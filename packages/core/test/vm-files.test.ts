import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest, ErrorCode, ManagerError } from '../src/index.js';
import { createVmDir, removeVmFiles, renderEnvironmentFile, validateCreateRequest, vmLayout, writeShares } from '../src/internal.js';
import { ensureTrustedDir } from '../src/vm/state/private-dir.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('environment file', () => {
  it('always carries the agent variables, and cert paths and AWS values only when given', () => {
    const text = renderEnvironmentFile(
      'id-1',
      emptyCreateVmRequest({ agentLogLevel: 'debug', agentCvmServerUrl: 'cvms:7001', agentCertsToken: 'tok', agentCvmCaUrl: 'https://ca' }),
    );
    expect(text).toBe('AGENT_LOG_LEVEL=debug\nAGENT_CVM_GRPC_URL=cvms:7001\nAGENT_CVM_ID=id-1\nAGENT_CERTS_TOKEN=tok\nAGENT_CVM_CA_URL=https://ca\n');
  });

  it('adds each certificate path when its bytes were sent, and non-empty AWS values', () => {
    const text = renderEnvironmentFile(
      'id-2',
      emptyCreateVmRequest({ agentCvmClientKey: Buffer.from('k'), agentCvmServerCaCert: Buffer.from('ca'), awsRegion: 'eu-west-1', awsSecretAccessKey: 's' }),
    );
    const keys = text
      .trim()
      .split('\n')
      .map((l) => l.split('=')[0]);
    expect(keys).toEqual([
      'AGENT_LOG_LEVEL',
      'AGENT_CVM_GRPC_URL',
      'AGENT_CVM_ID',
      'AGENT_CERTS_TOKEN',
      'AGENT_CVM_CA_URL',
      'AGENT_CVM_GRPC_CLIENT_KEY',
      'AGENT_CVM_GRPC_SERVER_CA_CERTS',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_REGION',
    ]);
    expect(text).toContain('AGENT_CVM_GRPC_CLIENT_KEY=/etc/certs/key.pem\n');
    expect(text).toContain('AGENT_CVM_GRPC_SERVER_CA_CERTS=/etc/certs/ca.pem\n');
  });
});

describe('per-VM files', () => {
  it('are 0700 directories and 0600 files, and go away with the VM', async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), 'cm-files-'));
    dirs.push(runDir);
    const layout = vmLayout(runDir, 'vm-a');
    await createVmDir(layout.dir);
    await writeShares(layout, 'vm-a', emptyCreateVmRequest({ agentCvmClientCert: Buffer.from('CERT') }));
    const mode = async (p: string) => (await stat(p)).mode & 0o777;
    expect(await mode(layout.dir)).toBe(0o700);
    expect(await mode(layout.envDir)).toBe(0o700);
    expect(await mode(layout.certsDir)).toBe(0o700);
    for (const f of ['cert.pem', 'key.pem', 'ca.pem']) expect(await mode(path.join(layout.certsDir, f))).toBe(0o600);
    expect(await mode(path.join(layout.envDir, 'environment'))).toBe(0o600);
    expect(await readFile(path.join(layout.certsDir, 'cert.pem'), 'utf8')).toBe('CERT');
    await removeVmFiles(layout);
    expect(await readdir(runDir)).toEqual([]);
  });

  it('put the shares under MANAGER_QEMU_ENV_MOUNT / MANAGER_QEMU_CERTS_MOUNT when set, and remove them there', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cm-mounts-'));
    dirs.push(root);
    const layout = vmLayout(path.join(root, 'run'), 'vm-b', { envMount: path.join(root, 'env'), certsMount: path.join(root, 'certs') });
    expect(layout.envDir).toBe(path.join(root, 'env', 'vm-b'));
    expect(layout.certsDir).toBe(path.join(root, 'certs', 'vm-b'));
    await createVmDir(layout.dir);
    await writeShares(layout, 'vm-b', emptyCreateVmRequest());
    expect(await readFile(path.join(layout.envDir, 'environment'), 'utf8')).toContain('AGENT_CVM_ID=vm-b\n');
    expect((await stat(layout.certsDir)).mode & 0o777).toBe(0o700);
    await removeVmFiles(layout);
    expect(await readdir(path.join(root, 'env'))).toEqual([]);
    expect(await readdir(path.join(root, 'certs'))).toEqual([]);
    expect(await readdir(path.join(root, 'run'))).toEqual([]);
  });

  it('refuses to reuse an existing VM directory', async () => {
    const runDir = await mkdtemp(path.join(os.tmpdir(), 'cm-files-'));
    dirs.push(runDir);
    await createVmDir(path.join(runDir, 'x'));
    await expect(createVmDir(path.join(runDir, 'x'))).rejects.toThrow(/EEXIST/);
  });
});

describe('CreateVm request validation', () => {
  const invalid = (overrides: Parameters<typeof emptyCreateVmRequest>[0]) => {
    try {
      validateCreateRequest(emptyCreateVmRequest(overrides));
    } catch (err) {
      expect(err).toBeInstanceOf(ManagerError);
      expect((err as ManagerError).code).toBe(ErrorCode.InvalidArgument);
      return (err as Error).message;
    }
    throw new Error('expected the request to be refused');
  };

  it('parses the ttl', () => {
    expect(validateCreateRequest(emptyCreateVmRequest({ ttl: '1h30m' })).ttlMs).toBe(5_400_000);
    expect(validateCreateRequest(emptyCreateVmRequest()).ttlMs).toBeNull();
  });

  it.each([
    [{ ttl: 'banana' }, /^ttl: invalid duration "banana"/],
    [{ ttl: '-5s' }, /ttl "-5s" must be positive/],
    [{ ttl: '0' }, /must be positive/],
    [{ ttl: '9000h' }, /longer than the maximum/],
    [{ agentLogLevel: 'info\nAWS_SECRET_ACCESS_KEY=x' }, /agent_log_level contains a control character/],
    [{ aaKbsParams: 'a b' }, /aa_kbs_params must be printable ASCII without spaces/],
    [{ agentCvmServerUrl: 'x'.repeat(5000) }, /agent_cvm_server_url is 5000 bytes; at most 4096/],
    [{ agentCvmClientCert: new Uint8Array(300 * 1024) }, /agent_cvm_client_cert is 307200 bytes/],
  ])('refuses %j', (overrides, message) => {
    expect(invalid(overrides)).toMatch(message);
  });
});

describe('share roots (MANAGER_QEMU_ENV_MOUNT / MANAGER_QEMU_CERTS_MOUNT)', () => {
  const tree = async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'cocos-shares-'));
    dirs.push(base);
    return base;
  };
  const refusal = (dir: string) =>
    ensureTrustedDir(dir, 'MANAGER_QEMU_ENV_MOUNT').then(
      () => null,
      (e: unknown) => e as ManagerError,
    );

  it('creates a missing root 0700 below trusted parents (a sticky /tmp included)', async () => {
    const base = await tree();
    const root = path.join(base, 'a', 'env');
    expect(await refusal(root)).toBeNull();
    expect((await stat(root)).mode & 0o777).toBe(0o700);
  });

  it('refuses a parent others may write, a parent that is a symbolic link, and a root open to others', async () => {
    const { chmod, mkdir, symlink } = await import('node:fs/promises');
    const base = await tree();
    await mkdir(path.join(base, 'loose'));
    await chmod(path.join(base, 'loose'), 0o777);
    const loose = await refusal(path.join(base, 'loose', 'env'));
    expect(loose?.message).toMatch(/^MANAGER_QEMU_ENV_MOUNT \S+ has a parent that others control: \S+\/loose is writable by group or others \(mode 0777\)$/);
    await mkdir(path.join(base, 'real'));
    await symlink(path.join(base, 'real'), path.join(base, 'link'));
    expect((await refusal(path.join(base, 'link', 'env')))?.message).toMatch(/\/link is a symbolic link$/);
    await mkdir(path.join(base, 'open'), { mode: 0o755 });
    await chmod(path.join(base, 'open'), 0o777);
    expect((await refusal(path.join(base, 'open')))?.message).toMatch(/has mode 0777, writable by group or others; expected 0700$/);
  });

  it("refuses a parent owned by another local user (as root: a chown'ed directory)", async () => {
    if (process.getuid?.() !== 0) return; // only root can give a directory away
    const { chown, mkdir } = await import('node:fs/promises');
    const base = await tree();
    await mkdir(path.join(base, 'theirs'), { mode: 0o755 });
    await chown(path.join(base, 'theirs'), 4242, 4242);
    expect((await refusal(path.join(base, 'theirs', 'env')))?.message).toMatch(/\/theirs is owned by uid 4242, neither root nor this manager's uid 0$/);
  });
});
