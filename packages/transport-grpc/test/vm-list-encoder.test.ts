import { describe, expect, it } from 'vitest';
import { loadManagerProto, type ListVmsRes, type VmInfo } from '@cocos-manager/contract';
import { VmListEncoder } from '../src/vm-list-encoder.js';

const service = loadManagerProto().ManagerService.service;
const encodeVmInfo = service['GetVm']!.responseSerialize as (info: VmInfo) => Buffer;
const contractBytes = service['ListVms']!.responseSerialize as (answer: ListVmsRes) => Buffer;
const decode = service['ListVms']!.responseDeserialize as (bytes: Buffer) => ListVmsRes;

const info = (id: string, extra: Partial<VmInfo> = {}): VmInfo => ({
  id,
  state: 'running',
  forwarded_port: '7001',
  pid: 4242,
  backend: 'plain',
  boot: 'direct',
  created_at: '2026-12-03T10:00:00.000Z',
  ttl_deadline: '',
  exit: null,
  guest_status: 'running',
  adopted: false,
  gpus: [],
  state_write_error: '',
  ...extra,
});

/** An encoder that counts the VmInfo messages it encodes. */
function counted() {
  let encodes = 0;
  const encoder = new VmListEncoder((i) => {
    encodes++;
    return encodeVmInfo(i);
  });
  return { encoder, encodes: () => encodes };
}

describe('ListVms answers encoded VM by VM', () => {
  it("gives the contract's bytes for the same answer, with and without a next page token", () => {
    const { encoder } = counted();
    const answer = { vms: [info('a'), info('b', { exit: { code: -1, signal: 'SIGKILL', reason: 'killed' }, gpus: ['0000:41:00.0'] })] };
    expect(encoder.encode(answer)).toEqual(contractBytes(answer));
    const paged = { ...answer, next_page_token: 'v1.abc' };
    expect(encoder.encode(paged)).toEqual(contractBytes(paged));
    expect(decode(encoder.encode(paged))).toMatchObject({ next_page_token: 'v1.abc', vms: [{ id: 'a' }, { id: 'b', gpus: ['0000:41:00.0'] }] });
    expect(encoder.encode({ vms: [] })).toEqual(contractBytes({ vms: [] }));
  });

  it('encodes a VM again exactly when any field of it changed, and each answer is that of its views', () => {
    const { encoder, encodes } = counted();
    const first = { vms: [info('a'), info('b')] };
    encoder.encode(first);
    expect(encodes()).toBe(2);
    // Fresh objects, alike: no new encoding.
    expect(encoder.encode({ vms: [info('a'), info('b')] })).toEqual(contractBytes(first));
    expect(encodes()).toBe(2);
    const changes: Partial<VmInfo>[] = [
      { state: 'stopping' },
      { pid: 0 },
      { guest_status: 'paused' },
      { exit: { code: 0, signal: '', reason: 'exited' } },
      { exit: { code: 1, signal: '', reason: 'exited' } },
      { gpus: ['0000:41:00.0'] },
      { gpus: ['0000:42:00.0'] },
      { state_write_error: 'STATE_DISK_FULL: …' },
      { adopted: true },
    ];
    let expected = 2;
    for (const change of changes) {
      const answer = { vms: [info('a'), info('b', change)] };
      expect(encoder.encode(answer), JSON.stringify(change)).toEqual(contractBytes(answer));
      expect(encodes(), JSON.stringify(change)).toBe(++expected);
    }
    // A device field present in one view and absent in the next is a change too.
    const withExtra = { ...info('a'), extra_field: 'x' } as VmInfo;
    encoder.encode({ vms: [withExtra] });
    encoder.encode({ vms: [info('a')] });
    expect(encodes()).toBe(expected + 2);
  });

  it('keeps only the VMs the manager still has', () => {
    const { encoder } = counted();
    encoder.encode({ vms: [info('a'), info('b'), info('c')] });
    expect(encoder.size).toBe(3);
    encoder.retainOnly([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    expect(encoder.size).toBe(3);
    encoder.retainOnly([{ id: 'b' }]);
    expect(encoder.size).toBe(1);
  });
});
