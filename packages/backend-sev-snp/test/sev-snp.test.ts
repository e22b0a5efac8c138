import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coreSettings, emptyCreateVmRequest, ErrorCode, HostEnvironment, ManagerError, QemuCommand, VmContext } from '@cocos-manager/core';
import { loadManagerConfig } from '@cocos-manager/core/internal';
import { checkIgvmFile, decodeHostData, probeSevSnpHost, SevSnpBackend, sevSnpSettings, snpProductLine } from '../src/index.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'cm-snp-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer, mode = 0o644) => {
  const p = path.join(root, name);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
};

const config = (env: Record<string, string> = {}) =>
  loadManagerConfig(
    [
      { owner: '@cocos-manager/core', slice: coreSettings },
      { owner: '@cocos-manager/backend-sev-snp', slice: sevSnpSettings },
    ],
    env,
  );
const VM = new VmContext('6f1c3a52-0d7e-4b8a-9c1e-2f3a4b5c6d7e', '/run/cm/6f1c3a52-0d7e-4b8a-9c1e-2f3a4b5c6d7e', 6100, emptyCreateVmRequest(), 'quiet');
const argsOf = (env: Record<string, string> = {}) => {
  const cmd = new QemuCommand('qemu');
  new SevSnpBackend(config(env), new HostEnvironment('/')).contribute(cmd, VM);
  return cmd.args();
};

describe('SEV-SNP QEMU arguments (the argv of the Go manager: apps/manager/test/golden-argv.ts)', () => {
  it('default configuration', () => {
    expect(argsOf()).toEqual([
      '-machine',
      `confidential-guest-support=sev0-${VM.id},memory-backend=ram1,igvm-cfg=igvm0`,
      '-object',
      'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false',
      '-object',
      `sev-snp-guest,id=sev0-${VM.id},cbitpos=51,reduced-phys-bits=1`,
      '-object',
      'igvm-cfg,id=igvm0,file=/root/coconut-qemu.igvm',
    ]);
  });

  it('overridden configuration, host data, and the other spelling of the C-bit variable', () => {
    const hostData = Buffer.alloc(32, 7).toString('base64');
    expect(
      argsOf({
        MANAGER_QEMU_SEV_SNP_ID: 'snp',
        MANAGER_QEMU_SEV_SNP_CBIT_POS: '47',
        MANAGER_QEMU_SEV_SNP_REDUCED_PHYS_BITS: '5',
        MANAGER_QEMU_MEM_ID: 'mem0',
        MANAGER_QEMU_MEMORY_SIZE: '8G',
        MANAGER_QEMU_IGVM_ID: 'ig',
        MANAGER_QEMU_IGVM_FILE: '/fw/svsm.igvm',
        MANAGER_QEMU_ENABLE_HOST_DATA: 'true',
        MANAGER_QEMU_HOST_DATA: hostData,
      }),
    ).toEqual([
      '-machine',
      `confidential-guest-support=snp-${VM.id},memory-backend=mem0,igvm-cfg=ig`,
      '-object',
      'memory-backend-memfd,id=mem0,size=8G,share=true,prealloc=false',
      '-object',
      `sev-snp-guest,id=snp-${VM.id},cbitpos=47,reduced-phys-bits=5,host-data=${hostData}`,
      '-object',
      'igvm-cfg,id=ig,file=/fw/svsm.igvm',
    ]);
  });

  it('adds no pflash firmware: the IGVM carries OVMF', () => {
    expect(argsOf().join(' ')).not.toContain('pflash');
  });

  it.each(['', 'not base64!', Buffer.alloc(31).toString('base64'), Buffer.alloc(33).toString('base64')])('host data %j is refused', (value) => {
    expect(() => argsOf({ MANAGER_QEMU_ENABLE_HOST_DATA: 'true', MANAGER_QEMU_HOST_DATA: value })).toThrow(
      /MANAGER_QEMU_HOST_DATA=.*expected base64 of exactly 32 bytes/,
    );
    expect(() => decodeHostData(value)).toThrow(/exactly 32 bytes/);
  });
});

describe('SEV-SNP host probe on recorded /proc and /sys', () => {
  const host = (name: string, flags: string, param?: string) => {
    file(
      `${name}/proc/cpuinfo`,
      `processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 1\nflags\t\t: fpu vme ${flags} sme\n\nprocessor\t: 1\n`,
    );
    if (param !== undefined) file(`${name}/sys/module/kvm_amd/parameters/sev_snp`, `${param}\n`);
    return new HostEnvironment(path.join(root, name));
  };

  it('present: sev_snp flag and kvm_amd sev_snp=Y', async () => {
    expect(await probeSevSnpHost(host('snp-yes', 'sev sev_es sev_snp', 'Y'))).toEqual({ available: true, reason: 'sev_snp CPU flag and kvm_amd sev_snp=Y' });
  });
  it('absent: no sev_snp flag', async () => {
    expect(await probeSevSnpHost(host('snp-no', 'sev sev_es', 'Y'))).toMatchObject({
      available: false,
      reason: expect.stringContaining('does not advertise sev_snp'),
    });
  });
  it('flag without the module parameter', async () => {
    expect(await probeSevSnpHost(host('snp-nomod', 'sev_snp'))).toMatchObject({ available: false, reason: expect.stringContaining('kvm_amd is not loaded') });
  });
  it('module with SNP disabled', async () => {
    expect(await probeSevSnpHost(host('snp-off', 'sev_snp', 'N'))).toMatchObject({ available: false, reason: expect.stringContaining('sev_snp = N') });
  });
  it('no /proc at all', async () => {
    expect(await probeSevSnpHost(new HostEnvironment(path.join(root, 'empty')))).toMatchObject({ available: false });
  });
  it('needs KVM', async () => {
    const backend = new SevSnpBackend(config({ MANAGER_QEMU_ENABLE_KVM: 'false' }), new HostEnvironment('/'));
    expect(await backend.probe(host('snp-yes2', 'sev_snp', 'Y'))).toEqual({
      available: false,
      reason: 'SEV-SNP guests need KVM, but MANAGER_QEMU_ENABLE_KVM=false',
    });
  });
  it('knows the product line from family and model', async () => {
    expect(await snpProductLine(host('milan', 'sev_snp'))).toBe('Milan');
    file('genoa/proc/cpuinfo', 'cpu family\t: 25\nmodel\t\t: 17\nflags\t: sev_snp\n');
    expect(await snpProductLine(new HostEnvironment(path.join(root, 'genoa')))).toBe('Genoa');
  });
});

describe('IGVM file check at start', () => {
  it('accepts an IGVM file', async () => {
    await expect(checkIgvmFile(file('good.igvm', Buffer.concat([Buffer.from('IGVM'), Buffer.alloc(60)])))).resolves.toBeUndefined();
  });
  it('refuses a missing file', async () => {
    await expect(checkIgvmFile(path.join(root, 'missing.igvm'))).rejects.toThrow(
      /MANAGER_QEMU_IGVM_FILE=".*missing.igvm": expected a readable IGVM file \(ENOENT\)/,
    );
  });
  it('refuses a file without the IGVM magic', async () => {
    await expect(checkIgvmFile(file('bad.igvm', 'MZ\x90\x00 not igvm'))).rejects.toThrow(/does not start with the "IGVM" magic/);
  });
});

describe('SEV-SNP selection', () => {
  it.each([
    ['', null],
    ['true', true],
    ['false', false],
  ] as const)('MANAGER_QEMU_ENABLE_SEV_SNP=%j: switch %j, probed below TDX and above the fallback', (value, expected) => {
    const backend = new SevSnpBackend(config({ MANAGER_QEMU_ENABLE_SEV_SNP: value }), new HostEnvironment(root));
    expect(backend.selection).toEqual({ priority: 100, detect: 'probe', switch: { env: 'MANAGER_QEMU_ENABLE_SEV_SNP', value: expected } });
  });

  it("declares its switch in its own slice, with the Go manager's name and default", () => {
    expect(sevSnpSettings.sevSnp.enable).toMatchObject({ env: 'MANAGER_QEMU_ENABLE_SEV_SNP', default: '' });
    expect(() => config({ MANAGER_QEMU_ENABLE_SEV_SNP: 'maybe' })).toThrow(/^MANAGER_QEMU_ENABLE_SEV_SNP="maybe": expected /);
  });
});

describe('SEV-SNP attestation policy', () => {
  const digest = 'a1'.repeat(24) + 'b2'.repeat(24);
  const measure = (name: string, body: string) => file(`bin-${name}/igvmmeasure`, `#!/bin/sh\n${body}\n`, 0o755);
  const igvm = file('svsm.igvm', Buffer.concat([Buffer.from('IGVM'), Buffer.alloc(12)]));
  const hostData = Buffer.alloc(32, 0x5a).toString('base64');
  const policyWith = async (env: Record<string, string>) => {
    const doc = await new SevSnpBackend(config({ MANAGER_QEMU_IGVM_FILE: igvm, ...env }), new HostEnvironment(path.join(root, 'no-host'))).attestationPolicy();
    return doc as typeof doc & { json: { policy: Record<string, unknown>; rootOfTrust: Record<string, unknown>; pcr_values?: unknown } };
  };

  it('carries exactly the digest igvmmeasure printed, host data, policy and PCRs', async () => {
    measure('ok', `[ "$1" = "${igvm}" ] && [ "$2" = measure ] && [ "$3" = -b ] || { echo "bad args: $*" >&2; exit 2; }\necho ${digest.toUpperCase()}`);
    const pcr256 = 'c3'.repeat(32);
    const pcr384 = 'd4'.repeat(48);
    const pcrs = file('pcrs.json', JSON.stringify({ pcr_values: { sha256: { '0': pcr256 }, sha384: { '4': pcr384 } } }));
    const doc = await policyWith({
      MANAGER_ATTESTATION_POLICY_BINARY_PATH: path.join(root, 'bin-ok'),
      MANAGER_QEMU_ENABLE_HOST_DATA: 'true',
      MANAGER_QEMU_HOST_DATA: hostData,
      MANAGER_PCR_VALUES: pcrs,
      MANAGER_SEV_SNP_POLICY: '0x30000',
    });
    expect(Buffer.from(doc.json.policy['measurement'] as string, 'base64').toString('hex')).toBe(digest);
    expect(doc.json.policy['hostData']).toBe(hostData);
    expect(doc.json.policy['policy']).toBe('196608');
    expect(doc.json.policy['product']).toEqual({ name: 'SEV_PRODUCT_MILAN' });
    expect(doc.json.rootOfTrust).toMatchObject({ product: 'Milan' });
    expect(doc.json.pcr_values).toEqual({ sha256: { '0': pcr256 }, sha384: { '4': pcr384 } });
    expect(doc.measurements.map((m) => [m.name, Buffer.from(m.digest).toString('hex')])).toEqual([
      ['launch-measurement', digest],
      ['pcr4', pcr384],
    ]);
    // The CoRIM environment core writes: the backend's, not core's, knowledge.
    expect(doc).toMatchObject({ tee: 'sev-snp', environment: { vendor: 'AMD', model: 'SEV-SNP' } });
  });

  it('MANAGER_IGVMMEASURE_BINARY wins over the binary path', async () => {
    const binary = measure('explicit', `echo ${digest}`);
    const doc = await policyWith({ MANAGER_IGVMMEASURE_BINARY: binary, MANAGER_ATTESTATION_POLICY_BINARY_PATH: '/nowhere' });
    expect(Buffer.from(doc.json.policy['measurement'] as string, 'base64').toString('hex')).toBe(digest);
    expect(doc.json.policy['hostData']).toBeUndefined();
  });

  /** The operator's detail of a measurement failure; its client message names no host path. */
  const failure = async (env: Record<string, string>) => {
    const err = await policyWith(env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ManagerError);
    expect((err as ManagerError).code).toBe(ErrorCode.FailedPrecondition);
    const { message, detail } = err as ManagerError;
    if (detail === undefined) return message; // not a measurement failure (the PCR file's own errors)
    expect(message).toMatch(/^the launch measurement of the IGVM file could not be computed: /);
    expect(message).not.toMatch(/\//);
    return detail;
  };

  it('a missing igvmmeasure names the binary', async () => {
    expect(await failure({ MANAGER_ATTESTATION_POLICY_BINARY_PATH: '/no/such/dir' })).toMatch(
      /^igvmmeasure "\/no\/such\/dir\/igvmmeasure" could not run: .*ENOENT/,
    );
  });
  it('a failing igvmmeasure is quoted', async () => {
    measure('fail', 'echo "error: unsupported IGVM revision" >&2; exit 3');
    expect(await failure({ MANAGER_ATTESTATION_POLICY_BINARY_PATH: path.join(root, 'bin-fail') })).toMatch(
      /failed on .* with exit status 3: error: unsupported IGVM revision/,
    );
  });

  it('50 parallel policies run the measurement once (one process at a time), and again once a file changes', async () => {
    const counter = path.join(root, 'measure-runs');
    const running = path.join(root, 'measure-running');
    // Counts its runs, and fails loudly if two ever overlap.
    const binary = measure(
      'counted',
      `[ -e "${running}" ] && { echo overlap >&2; exit 9; }\n: > "${running}"\necho run >> "${counter}"\nsleep 0.2\nrm -f "${running}"\necho ${digest}`,
    );
    const backend = new SevSnpBackend(
      config({ MANAGER_QEMU_IGVM_FILE: igvm, MANAGER_IGVMMEASURE_BINARY: binary }),
      new HostEnvironment(path.join(root, 'no-host')),
    );
    const docs = await Promise.all(Array.from({ length: 50 }, () => backend.attestationPolicy()));
    expect(new Set(docs.map((d) => JSON.stringify(d.json))).size).toBe(1);
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(1);
    // A changed IGVM file is a new identity: measured again, once.
    const { utimesSync } = await import('node:fs');
    utimesSync(igvm, new Date(), new Date(Date.now() + 5000));
    await Promise.all(Array.from({ length: 10 }, () => backend.attestationPolicy()));
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('a failed measurement is not kept: the next call measures again', async () => {
    const flag = path.join(root, 'measure-fails-once');
    writeFileSync(flag, '');
    const binary = measure('flaky', `[ -e "${flag}" ] && { rm -f "${flag}"; echo "transient" >&2; exit 1; }\necho ${digest}`);
    const backend = new SevSnpBackend(
      config({ MANAGER_QEMU_IGVM_FILE: igvm, MANAGER_IGVMMEASURE_BINARY: binary }),
      new HostEnvironment(path.join(root, 'no-host')),
    );
    await expect(backend.attestationPolicy()).rejects.toMatchObject({ code: ErrorCode.FailedPrecondition });
    const doc = (await backend.attestationPolicy()) as { json: { policy: Record<string, unknown> } };
    expect(Buffer.from(doc.json.policy['measurement'] as string, 'base64').toString('hex')).toBe(digest);
  });
  it.each([
    ['two lines', `echo ${digest}; echo done`],
    ['a short digest', 'echo abcd'],
    ['not hex', `echo ${'zz'.repeat(48)}`],
  ])('garbled output (%s) is quoted', async (name, body) => {
    measure(name.replaceAll(' ', '-'), body);
    expect(await failure({ MANAGER_ATTESTATION_POLICY_BINARY_PATH: path.join(root, `bin-${name.replaceAll(' ', '-')}`) })).toMatch(
      /printed ".*", expected one line of 96 hex digits/,
    );
  });
  it.each([
    ['not JSON', '{', /cannot be read as JSON/],
    ['no pcr_values', '{}', /"pcr_values" key/],
    ['bad bank', '{"pcr_values":{"md5":{}}}', /unknown PCR bank "md5"/],
    ['bad digest', '{"pcr_values":{"sha256":{"0":"abc"}}}', /pcr_values.sha256.0 must be 64 hex digits/],
    ['bad index', '{"pcr_values":{"sha384":{"24":"' + 'a'.repeat(96) + '"}}}', /PCRs are 0 to 23/],
  ])('a PCR file with %s is refused, naming the file', async (_name, content, message) => {
    measure('ok2', `echo ${digest}`);
    expect(
      await failure({ MANAGER_ATTESTATION_POLICY_BINARY_PATH: path.join(root, 'bin-ok2'), MANAGER_PCR_VALUES: file(`pcr-${_name}.json`, content) }),
    ).toMatch(message);
  });
});
