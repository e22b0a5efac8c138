import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mrtdReference } from '@cocos-manager/testing';
import { boot, head, network, pflash, RUN, tail, VM } from './golden-argv.js';
import { MAIN } from './harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-cvm-'));
const file = (name: string) => path.join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  return execa('node', [MAIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', MANAGER_RUN_DIR: RUN, MANAGER_STATE_DIR: file('state'), ...env },
    extendEnv: false,
    reject: false,
    encoding: 'buffer',
    // stdout's bytes as written: execa would strip a final 0x0a, the last byte of one signed CoRIM in 256.
    stripFinalNewline: { stdout: false },
  });
}
const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('golden QEMU argv of the confidential backends (qemu-args works on any host)', () => {
  it('SEV-SNP', async () => {
    const result = await run(['qemu-args'], { MANAGER_QEMU_ENABLE_SEV_SNP: 'true' });
    expect(result.exitCode, text(result.stderr)).toBe(0);
    expect(JSON.parse(text(result.stdout))).toEqual([
      ...head,
      ...network,
      '-machine',
      `confidential-guest-support=sev0-${VM},memory-backend=ram1,igvm-cfg=igvm0`,
      '-object',
      'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false',
      '-object',
      `sev-snp-guest,id=sev0-${VM},cbitpos=51,reduced-phys-bits=1`,
      '-object',
      'igvm-cfg,id=igvm0,file=/root/coconut-qemu.igvm',
      ...boot,
      ...tail,
    ]);
  });

  it('TDX', async () => {
    const result = await run(['qemu-args'], { MANAGER_QEMU_ENABLE_SEV_SNP: 'false', MANAGER_QEMU_ENABLE_TDX: 'true', MANAGER_QEMU_CPU: 'host' });
    expect(result.exitCode, text(result.stderr)).toBe(0);
    expect(JSON.parse(text(result.stdout))).toEqual([
      ...head.map((a) => (a === 'EPYC' ? 'host' : a)),
      ...network,
      '-object',
      `{"qom-type":"tdx-guest","id":"tdx0-${VM}","quote-generation-socket":{"type":"vsock","cid":"2","port":"4050"}}`,
      '-machine',
      `confidential-guest-support=tdx0-${VM},memory-backend=ram1,hpet=off`,
      '-object',
      'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false',
      '-bios',
      '/usr/share/ovmf/OVMF.fd',
      '-nodefaults',
      ...boot,
      ...tail,
    ]);
  });
});

describe('backend selection', () => {
  it('both confidential switches on is a one-line error', async () => {
    const result = await run(['qemu-args'], { MANAGER_QEMU_ENABLE_SEV_SNP: 'true', MANAGER_QEMU_ENABLE_TDX: 'true' });
    expect(result.exitCode).toBe(2);
    expect(text(result.stderr)).toBe(
      'cocos-manager: MANAGER_QEMU_ENABLE_SEV_SNP and MANAGER_QEMU_ENABLE_TDX are both true: a host runs one kind of confidential VM; set one of them to false',
    );
  });

  it.each([
    ['sev-snp', { MANAGER_QEMU_ENABLE_SEV_SNP: 'true' }, /^cocos-manager: the sev-snp backend cannot run on this host: /],
    ['tdx', { MANAGER_QEMU_ENABLE_TDX: 'true' }, /^cocos-manager: the tdx backend cannot run on this host: /],
  ])('%s requested on a host that cannot run it stops start-up with one line', async (_name, env, message) => {
    const result = await run([], { MANAGER_GRPC_PORT: '0', ...env });
    expect(result.exitCode).toBe(2);
    expect(text(result.stderr)).toMatch(message);
    expect(text(result.stderr).trim().split('\n')).toHaveLength(1);
  });

  it('an unknown MANAGER_TEE_BACKEND names the loaded backends', async () => {
    const result = await run(['qemu-args'], { MANAGER_TEE_BACKEND: 'sgx' });
    expect(text(result.stderr)).toBe(
      'cocos-manager: MANAGER_TEE_BACKEND selects the "sgx" backend, but no loaded plugin provides it (loaded backends: plain, sev-snp, sev, tdx)',
    );
  });
});

describe('cocos-manager attestation-policy', () => {
  const digest = 'c0ffee'.repeat(16);
  let snpEnv: Record<string, string>;
  // MRTD computed from the default firmware (Debian's OVMF.fd), checked by an independent derivation.
  const mrtd = mrtdReference(readFileSync('/usr/share/ovmf/OVMF.fd'));
  const tdxEnv = {
    MANAGER_QEMU_ENABLE_TDX: 'true',
    MANAGER_RTMR0: '50'.repeat(48),
    MANAGER_RTMR1: '51'.repeat(48),
    MANAGER_RTMR2: '52'.repeat(48),
    MANAGER_RTMR3: '53'.repeat(48),
  };

  beforeAll(async () => {
    writeFileSync(file('igvmmeasure'), `#!/bin/sh\necho ${digest}\n`);
    chmodSync(file('igvmmeasure'), 0o755);
    writeFileSync(file('svsm.igvm'), 'IGVM....');
    snpEnv = { MANAGER_QEMU_ENABLE_SEV_SNP: 'true', MANAGER_IGVMMEASURE_BINARY: file('igvmmeasure'), MANAGER_QEMU_IGVM_FILE: file('svsm.igvm') };
    for (const [name, curve] of [
      ['p256', 'P-256'],
      ['p384', 'P-384'],
    ]) {
      await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-out', file(`${name}.key`)]);
      await execa('openssl', ['pkey', '-in', file(`${name}.key`), '-pubout', '-out', file(`${name}.pub`)]);
    }
    await execa('openssl', ['genpkey', '-algorithm', 'ED25519', '-out', file('ed.key')]);
  });

  it('answers with a CoRIM by default, and JSON when MANAGER_ATTESTATION_POLICY_FORMAT=json', async () => {
    const corim = await run(['attestation-policy'], snpEnv);
    expect(corim.exitCode, text(corim.stderr)).toBe(0);
    // An untagged CBOR map of two entries (id, tags): the corim-map.
    expect((corim.stdout as unknown as Buffer)[0]).toBe(0xa2);
    const json = await run(['attestation-policy'], { ...snpEnv, MANAGER_ATTESTATION_POLICY_FORMAT: 'json' });
    expect(JSON.parse(text(json.stdout))).toHaveProperty('policy.measurement');
  });

  it('prints the SNP policy JSON with the measured digest', async () => {
    const result = await run(['attestation-policy', '--format', 'json'], snpEnv);
    expect(result.exitCode, text(result.stderr)).toBe(0);
    const policy = JSON.parse(text(result.stdout)) as { policy: { measurement: string; policy: string } };
    expect(Buffer.from(policy.policy.measurement, 'base64').toString('hex')).toBe(digest);
    expect(policy.policy.policy).toBe('196608');
  });

  it('prints the TDX policy JSON, its MRTD computed from the firmware', async () => {
    const result = await run(['attestation-policy', '--format', 'json'], tdxEnv);
    const policy = JSON.parse(text(result.stdout)) as { policy: { tdQuoteBodyPolicy: { mrTd: string; rtmrs: string[] } } };
    expect(Buffer.from(policy.policy.tdQuoteBodyPolicy.mrTd, 'base64').toString('hex')).toBe(mrtd);
    expect(policy.policy.tdQuoteBodyPolicy.rtmrs).toHaveLength(4);
  });

  it("accepts upstream's spelling MANAGER_ATTESTATION_POLICY_BINARY for the directory of igvmmeasure", async () => {
    const viaDirectory = Object.fromEntries(Object.entries(snpEnv).filter(([name]) => name !== 'MANAGER_IGVMMEASURE_BINARY'));
    const result = await run(['attestation-policy', '--format', 'json'], { ...viaDirectory, MANAGER_ATTESTATION_POLICY_BINARY: dir });
    expect(result.exitCode, text(result.stderr)).toBe(0);
    expect(Buffer.from((JSON.parse(text(result.stdout)) as { policy: { measurement: string } }).policy.measurement, 'base64').toString('hex')).toBe(digest);
    const elsewhere = await run(['attestation-policy', '--format', 'json'], { ...viaDirectory, MANAGER_ATTESTATION_POLICY_BINARY: file('state') });
    expect(elsewhere.exitCode).not.toBe(0);
  });

  it('refuses plain VMs with one line', async () => {
    const result = await run(['attestation-policy', '--format', 'json']);
    expect(result.exitCode).toBe(2);
    expect(text(result.stderr)).toBe(
      'cocos-manager: plain VMs carry no attestation: there is no TEE measurement to verify (run a sev, sev-snp or tdx backend)',
    );
  });

  const verify = async (corim: Buffer, publicKey = '') => {
    writeFileSync(file('policy.corim'), corim);
    // The names the backends give their measurements; the script maps each measurement key (UUIDv5 of the name) back.
    const names = ['launch-measurement', 'mrseam', 'mrtd', 'rtmr0', 'rtmr1', 'rtmr2', 'rtmr3', ...Array.from({ length: 24 }, (_, i) => `pcr${i}`)].join(',');
    const result = await execa('/usr/bin/python3', [path.join(import.meta.dirname, 'verify_corim.py'), file('policy.corim'), publicKey, names], {
      reject: false,
    });
    return { ok: result.exitCode === 0, out: result.exitCode === 0 ? (JSON.parse(result.stdout) as Record<string, unknown>) : result.stderr };
  };

  it('CoRIM (unsigned) decodes with an independent decoder and carries the SNP measurement as SHA-384', async () => {
    const result = await run(['attestation-policy', '--format', 'corim'], snpEnv);
    expect(result.exitCode, text(result.stderr)).toBe(0);
    const { ok, out } = await verify(Buffer.from(result.stdout));
    expect(ok, String(out)).toBe(true);
    expect(out).toMatchObject({ environment: { vendor: 'AMD', model: 'SEV-SNP' }, measurements: [{ name: 'launch-measurement', alg: 7, digest }] });
    expect(out).not.toHaveProperty('signed');
  });

  it.each([
    ['p256', -7],
    ['p384', -35],
  ])('CoRIM signed with a %s key verifies with the public key through an independent library', async (name, alg) => {
    const result = await run(['attestation-policy', '--format', 'corim'], { ...tdxEnv, MANAGER_CORIM_SIGNING_KEY: file(`${name}.key`) });
    expect(result.exitCode, text(result.stderr)).toBe(0);
    const corim = Buffer.from(result.stdout);
    const { ok, out } = await verify(corim, file(`${name}.pub`));
    expect(ok, String(out)).toBe(true);
    expect(out).toMatchObject({
      signed: { alg, content_type: 'application/rim+cbor', signer: expect.stringMatching(/.+/) },
      environment: { vendor: 'Intel', model: 'TDX' },
      measurements: [
        { name: 'mrtd', alg: 7, digest: mrtd },
        { name: 'rtmr0', alg: 7, digest: '50'.repeat(48) },
        { name: 'rtmr1', alg: 7, digest: '51'.repeat(48) },
        { name: 'rtmr2', alg: 7, digest: '52'.repeat(48) },
        { name: 'rtmr3', alg: 7, digest: '53'.repeat(48) },
      ],
    });
    // One flipped byte inside the signed payload: verification must fail.
    const tampered = Buffer.from(corim);
    const at = tampered.indexOf(Buffer.from(mrtd, 'hex'));
    tampered[at] ^= 0xff;
    expect((await verify(tampered, file(`${name}.pub`))).ok).toBe(false);
  });

  it('refuses a signing key that is not P-256 or P-384, naming the variable', async () => {
    const result = await run(['attestation-policy', '--format', 'corim'], { ...tdxEnv, MANAGER_CORIM_SIGNING_KEY: file('ed.key') });
    expect(result.exitCode).toBe(2);
    expect(text(result.stderr)).toMatch(
      /^cocos-manager: MANAGER_CORIM_SIGNING_KEY=".*ed.key": expected an EC key on P-256 \(ES256\) or P-384 \(ES384\), got ed25519/,
    );
  });

  it('a TDX firmware without TDVF metadata, and no MANAGER_MRTD, is refused with one line naming the file', async () => {
    writeFileSync(file('plain.fd'), Buffer.alloc(8192));
    const result = await run(['attestation-policy', '--format', 'corim'], { MANAGER_QEMU_ENABLE_TDX: 'true', MANAGER_QEMU_OVMF_FILE: file('plain.fd') });
    expect(result.exitCode).toBe(2);
    expect(text(result.stderr)).toBe(
      `cocos-manager: MANAGER_QEMU_OVMF_FILE="${file('plain.fd')}": cannot compute the TDX MRTD (${file('plain.fd')}: no OVMF footer table (GUID 96b582de-1fb2-45f7-baea-a366c55a082d 32 bytes before the end), so no TDVF metadata: not an OVMF image built for SEV or TDX); set MANAGER_MRTD to give it`,
    );
  });
});

describe('golden QEMU argv in disk mode (storage-disk)', () => {
  const disk = [
    '-drive',
    `file=${RUN}/${VM}/disk.qcow2,if=none,id=disk0,format=qcow2`,
    '-device',
    'virtio-scsi-pci,id=scsi0,disable-legacy=on,iommu_platform=true',
    '-device',
    'scsi-hd,drive=disk0,bus=scsi0.0',
  ];
  const args = async (env: Record<string, string>) => {
    const result = await run(['qemu-args'], { MANAGER_QEMU_ENABLE_DISK: 'true', ...env });
    expect(result.exitCode, text(result.stderr)).toBe(0);
    return JSON.parse(text(result.stdout)) as string[];
  };

  it('plain + disk: no -kernel/-initrd/-append', async () => {
    expect(await args({})).toEqual([...head, ...pflash, ...network, ...disk, ...tail]);
  });

  it('SEV-SNP + disk', async () => {
    expect(await args({ MANAGER_QEMU_ENABLE_SEV_SNP: 'true' })).toEqual([
      ...head,
      ...network,
      ...disk,
      '-machine',
      `confidential-guest-support=sev0-${VM},memory-backend=ram1,igvm-cfg=igvm0`,
      '-object',
      'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false',
      '-object',
      `sev-snp-guest,id=sev0-${VM},cbitpos=51,reduced-phys-bits=1`,
      '-object',
      'igvm-cfg,id=igvm0,file=/root/coconut-qemu.igvm',
      ...tail,
    ]);
  });

  it('TDX + disk', async () => {
    expect(await args({ MANAGER_QEMU_ENABLE_TDX: 'true' })).toEqual([
      ...head,
      ...network,
      ...disk,
      '-object',
      `{"qom-type":"tdx-guest","id":"tdx0-${VM}","quote-generation-socket":{"type":"vsock","cid":"2","port":"4050"}}`,
      '-machine',
      `confidential-guest-support=tdx0-${VM},memory-backend=ram1,hpet=off`,
      '-object',
      'memory-backend-memfd,id=ram1,size=2048M,share=true,prealloc=false',
      '-bios',
      '/usr/share/ovmf/OVMF.fd',
      '-nodefaults',
      ...tail,
    ]);
  });
});
