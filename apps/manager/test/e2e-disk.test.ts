import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { imageInfo } from '@cocos-manager/storage-disk';
import {
  DEV_GUEST,
  dirEntries,
  parseGuestAnswer,
  pidsWithArg,
  processState,
  startManager,
  until,
  waitForGuest,
  type RunningManager,
  type CreatedVm as Created,
} from './harness.js';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const REFERENCE = path.join(DEV_GUEST, 'disk.qcow2');

const managers: RunningManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.dispose();
});

describe('disk-backed boot through gRPC (storage-disk, real QEMU and qemu-img)', () => {
  it('boots two VMs from per-VM overlays of one reference, cleans each disk on removal and on crash, never touches the reference', async () => {
    const referenceHash = sha256(readFileSync(REFERENCE));
    const m = await startManager('6430-6439', { MANAGER_QEMU_ENABLE_DISK: 'true', MANAGER_QEMU_SRC_DISK_FILE: REFERENCE, MANAGER_VM_POWERDOWN_TIMEOUT: '2s' });
    managers.push(m);
    const cert = `disk-mode certificate ${Date.now()}\n`;
    const [a, b] = await Promise.all([m.call<Created>('CreateVm', { agent_cvm_client_cert: Buffer.from(cert) }), m.call<Created>('CreateVm', {})]);
    for (const vm of [a!, b!]) {
      const disk = path.join(m.runDir, vm.cvm_id, 'disk.qcow2');
      const info = await imageInfo(disk);
      expect(info.backingFile).toBe(REFERENCE);
      expect(info.virtualSize).toBe(2 * 1024 ** 3); // 64 MiB reference → 1 GiB + 1 GiB
    }
    // The argv really boots from the disk: no -kernel.
    const argv = readFileSync(`/proc/${pidsWithArg(path.join(m.runDir, a!.cvm_id))[0]}/cmdline`, 'utf8').split('\0');
    expect(argv).not.toContain('-kernel');
    expect(argv).toContain('scsi-hd,drive=disk0,bus=scsi0.0');

    const [answerA, answerB] = (await Promise.all([waitForGuest(Number(a!.forwarded_port), 120_000), waitForGuest(Number(b!.forwarded_port), 120_000)])).map(
      parseGuestAnswer,
    );
    expect(answerA).toMatchObject({ AGENT_CVM_ID: a!.cvm_id, CERT_SHA256: sha256(cert) });
    expect(answerB!['AGENT_CVM_ID']).toBe(b!.cvm_id);

    // A crash removes that VM's disk at once.
    const { pid } = await m.call<{ pid: number }>('GetVm', { id: b!.cvm_id });
    process.kill(pid, 'SIGKILL');
    await until(() => !existsSync(path.join(m.runDir, b!.cvm_id)), 1000, "the crashed VM's disk to go");
    expect(processState(pid)).toBeNull();

    await m.call('RemoveVm', { cvm_id: a!.cvm_id });
    await m.call('RemoveVm', { cvm_id: b!.cvm_id });
    expect(dirEntries(m.runDir)).toEqual([]);
    expect(sha256(readFileSync(REFERENCE))).toBe(referenceHash);
  });

  it('a disk that cannot be made fails the create cleanly', async () => {
    // A private copy of the reference, taken away once the manager has checked it.
    const base = mkdtempSync(path.join(os.tmpdir(), 'cm-disk-fail-'));
    const copy = path.join(base, 'ref.qcow2');
    copyFileSync(REFERENCE, copy);
    const m2 = await startManager(
      '6440-6444',
      { MANAGER_QEMU_ENABLE_DISK: 'true', MANAGER_QEMU_SRC_DISK_FILE: copy, MANAGER_VM_POWERDOWN_TIMEOUT: '0s' },
      base,
    );
    managers.push(m2);
    rmSync(copy);
    const refused = m2.call('CreateVm', {});
    await expect(refused).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringMatching(/the VM's disk could not be made from the reference image/),
    });
    // qemu-img's words name host paths: they are the operator's (logged), not the client's.
    expect(((await refused.catch((err: unknown) => err)) as { details: string }).details).not.toContain(base);
    expect(dirEntries(m2.runDir)).toEqual([]);
    expect(dirEntries(m2.stateDir)).toEqual([]);
    expect(pidsWithArg(m2.runDir)).toEqual([]);
  });

  it('a VM whose QEMU died while no manager ran loses its disk at the next start (MANAGER_QEMU_DST_DISK_FILE outside the run directory)', async () => {
    const disks = mkdtempSync(path.join(os.tmpdir(), 'cm-disks-'));
    const env = {
      MANAGER_QEMU_ENABLE_DISK: 'true',
      MANAGER_QEMU_SRC_DISK_FILE: REFERENCE,
      MANAGER_QEMU_DST_DISK_FILE: path.join(disks, '{id}.qcow2'),
      MANAGER_VM_POWERDOWN_TIMEOUT: '0s',
    };
    try {
      const first = await startManager('6810-6814', env);
      managers.push(first);
      const vm = await first.call<Created>('CreateVm', {});
      const disk = path.join(disks, `${vm.cvm_id}.qcow2`);
      expect(existsSync(disk)).toBe(true);
      const { pid } = await first.call<{ pid: number }>('GetVm', { id: vm.cvm_id });
      await first.kill9();
      process.kill(pid, 'SIGKILL');
      await until(() => processState(pid) === null, 5000, 'QEMU to be gone');
      expect(existsSync(disk)).toBe(true);

      const second = await startManager('6810-6814', env, first.base);
      managers.push(second);
      // Re-adoption is over once the manager says it started: the dead VM's disk is gone, the VM shown failed.
      expect(existsSync(disk)).toBe(false);
      expect(await second.call<{ state: string; exit: { reason: string } }>('GetVm', { id: vm.cvm_id })).toMatchObject({
        state: 'failed',
        exit: { reason: expect.stringMatching(/^QEMU ended while the manager was not running/) },
      });
      expect(dirEntries(second.runDir)).toEqual([]);
      await second.call('RemoveVm', { cvm_id: vm.cvm_id });
      expect(dirEntries(second.stateDir)).toEqual([]);
      expect(readdirSync(disks)).toEqual([]);
    } finally {
      rmSync(disks, { recursive: true, force: true });
    }
  });
});
