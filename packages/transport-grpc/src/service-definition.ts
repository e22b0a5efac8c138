import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadManagerProto, type ListVmsRes, type VmInfo } from '@cocos-manager/contract';
import { VmListEncoder } from './vm-list-encoder.js';

/**
 * manager.ManagerService as the server adds it: the contract's definition,
 * with ListVms answers encoded by a VmListEncoder (each VM's VmInfo bytes
 * kept while the VM stays the same) instead of the whole answer every call.
 */
export function managerServiceDefinition(): { definition: ServiceDefinition; vmList: VmListEncoder } {
  const service = loadManagerProto().ManagerService.service;
  // GetVm answers a VmInfo: its serializer is the contract's VmInfo encoding.
  const vmList = new VmListEncoder(service['GetVm']!.responseSerialize as (info: VmInfo) => Buffer);
  const listVms = { ...service['ListVms']!, responseSerialize: (answer: ListVmsRes) => vmList.encode(answer) };
  return { definition: { ...service, ListVms: listVms }, vmList };
}
