import { ManagerError } from '@cocos-manager/core';
/** A GUID as its 16 bytes in EFI order (first three fields little-endian). */
export function guidToBytes(guid: string): Buffer {
  const hex = guid.replaceAll('-', '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new ManagerError('MEASUREMENT_INPUT_INVALID', `not a GUID: ${guid}`);
  const raw = Buffer.from(hex, 'hex');
  const swap = (start: number, end: number) => Buffer.from(raw.subarray(start, end)).reverse();
  return Buffer.concat([swap(0, 4), swap(4, 6), swap(6, 8), raw.subarray(8)]);
}

/** 16 bytes in EFI order as the lower-case GUID text. */
export function bytesToGuid(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  const swap = (start: number, end: number) => Buffer.from(b.subarray(start, end)).reverse().toString('hex');
  return `${swap(0, 4)}-${swap(4, 6)}-${swap(6, 8)}-${b.subarray(8, 10).toString('hex')}-${b.subarray(10, 16).toString('hex')}`;
}

/** The footer-table GUIDs of edk2's OvmfPkg/ResetVector (and QEMU's reading of them). */
export const OvmfGuid = {
  FooterTable: '96b582de-1fb2-45f7-baea-a366c55a082d',
  SevEsResetBlock: '00f771de-1a7e-4fcb-890e-68c77e2fb44e',
  SevHashTableBlock: '7255371f-3a3b-4b04-927b-1da6efa8d454',
  SevMetadata: 'dc886566-984a-4798-a75e-5585a7bf67cc',
  TdxMetadata: 'e47a6535-984a-4798-865e-4685a7bf8ec2',
} as const;
