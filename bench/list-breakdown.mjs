// Where the time of a 1,000-VM ListVms goes (figure 11's breakdown).
import { loadManagerProto } from '@cocos-manager/contract';
import { median, ms } from './lib.mjs';

/**
 * Where a 1,000-VM ListVms goes: the service's list() in the manager, and
 * encoding and decoding the answer as the contract's grpc-js serializers do
 * (the manager itself keeps each VM's encoded bytes: transport-grpc's VmListEncoder).
 */
export async function listBreakdown(fm, call) {
  const { ManagerService } = loadManagerProto();
  const { responseSerialize, responseDeserialize } = ManagerService.service.ListVms;
  const answer = await call('ListVms', {});
  const bytes = responseSerialize(answer);
  const each = (f) => {
    const times = [];
    for (let i = 0; i < 50; i++) {
      const t = ms();
      f();
      times.push(ms() - t);
    }
    return +median(times).toFixed(2);
  };
  return {
    serviceListMs: +(await fm.ask('listCost')).ms.toFixed(2),
    contractEncodeMs: each(() => responseSerialize(answer)),
    decodeMs: each(() => responseDeserialize(bytes)),
    answerBytes: bytes.length,
  };
}
