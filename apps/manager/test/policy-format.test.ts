import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { execa } from 'execa';
import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESS_LAUNCHER, TRANSPORT, emptyCreateVmRequest, type AttestationPolicyDocument, type Transport } from '@cocos-manager/core';
import { loadManagerProto, POLICY_FORMAT_METADATA } from '@cocos-manager/contract';
import { createInertBackendPlugin, FakeLauncher, PLACEHOLDER_FILE, startTestManager, type TestManager } from '@cocos-manager/testing';
import { grpcTransportPlugin } from '@cocos-manager/transport-grpc';
import { httpTransportPlugin } from '@cocos-manager/transport-http';
import { REPO } from './harness.js';

/** One policy, asked for as CoRIM or JSON over HTTP (`?format=`), gRPC (metadata) and the operator CLI (`--format`). */
const digest = randomBytes(48);
const policy: AttestationPolicyDocument = {
  tee: 'test-tee',
  environment: { vendor: 'Test', model: 'TEE' },
  json: { policy: { measurement: digest.toString('base64') } },
  measurements: [{ name: 'launch-measurement', digest }],
};
const CLI = path.join(REPO, 'apps/cli/dist/main.js');

describe('attestation policy formats on every surface', () => {
  let t: TestManager;
  let grpcPort = 0;
  let httpPort = 0;
  let vmId = '';
  beforeAll(async () => {
    const boot = PLACEHOLDER_FILE;
    t = await startTestManager({
      plugins: [createInertBackendPlugin({ attestationPolicy: async () => policy }), grpcTransportPlugin, httpTransportPlugin],
      env: { MANAGER_QEMU_DISK_IMG_KERNEL_FILE: boot, MANAGER_QEMU_DISK_IMG_ROOTFS_FILE: boot },
      overrides: [{ token: PROCESS_LAUNCHER, useValue: new FakeLauncher() }],
    });
    const transports = t.manager.container.resolveAll<Transport & { port(): number }>(TRANSPORT);
    grpcPort = transports.find((x) => x.name === 'grpc')!.port();
    httpPort = transports.find((x) => x.name === 'http')!.port();
    vmId = (await t.manager.service.create(emptyCreateVmRequest())).id;
  });
  afterAll(async () => {
    await t?.stop();
  });

  const isCorim = (bytes: Buffer) => bytes[0] === 0xa2; // the untagged corim-map {0: id, 1: tags}

  it('HTTP: CoRIM by default and with ?format=corim, JSON with ?format=json, 400 for anything else', async () => {
    const get = (q: string) => fetch(`http://127.0.0.1:${httpPort}/vms/${vmId}/attestation-policy${q}`);
    for (const q of ['', '?format=corim']) {
      const res = await get(q);
      expect(res.headers.get('content-type')).toBe('application/rim+cbor');
      expect(isCorim(Buffer.from(await res.arrayBuffer()))).toBe(true);
    }
    const json = await get('?format=json');
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await json.json()).toEqual(policy.json);
    const bad = await get('?format=xml');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe('POLICY_FORMAT_UNKNOWN: format "xml" is not one of corim, json');
  });

  it('gRPC: the upstream request gets the default; our metadata picks the format', async () => {
    const { ManagerService } = loadManagerProto();
    const client = new ManagerService(`127.0.0.1:${grpcPort}`, credentials.createInsecure()) as Client &
      Record<string, (r: unknown, md: Metadata, cb: (e: ServiceError | null, r: { info: Buffer }) => void) => void>;
    const call = (format?: string) =>
      new Promise<Buffer>((resolve, reject) => {
        const md = new Metadata();
        if (format) md.set(POLICY_FORMAT_METADATA, format);
        client['AttestationPolicy']!({ id: vmId }, md, (err, res) => (err ? reject(err) : resolve(res.info)));
      });
    expect(isCorim(await call())).toBe(true);
    expect(JSON.parse((await call('json')).toString())).toEqual(policy.json);
    await expect(call('yaml')).rejects.toMatchObject({ code: 3, details: 'POLICY_FORMAT_UNKNOWN: policy format "yaml" is not one of corim, json' });
    client.close();
  });

  it('the operator CLI: --format json and --format corim', async () => {
    const cli = (...args: string[]) =>
      execa('node', [CLI, '--server-url', `127.0.0.1:${grpcPort}`, ...args], { encoding: 'buffer', stripFinalNewline: { stdout: false }, reject: false }); // a CoRIM's last byte may be 0x0a
    const json = await cli('attestation-policy', vmId, '--format', 'json');
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(Buffer.from(json.stdout).toString())).toEqual(policy.json);
    const corim = await cli('attestation-policy', vmId, '--format', 'corim');
    expect(isCorim(Buffer.from(corim.stdout))).toBe(true);
  });
});
