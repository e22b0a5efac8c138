// ListVms' baselines: alternated timing, the same answers from bare grpc-js servers,
// and where the time of a 1,000-VM ListVms goes (figures 9 and 11).
import { loadManagerProto } from '@cocos-manager/contract';
import { bareGrpcServer, median, ms } from './lib.mjs';

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

/**
 * Median latency of `callA` and of `callB`, measured in alternation (20 calls
 * of one, 20 of the other, ten times, after 50 unmeasured of each): the
 * manager with few VMs and the one with 1,000 run side by side, so load from
 * elsewhere falls on both alike.
 */
export async function alternated(callA, callB) {
  for (let i = 0; i < 50; i++) {
    await callA();
    await callB();
  }
  const a = [];
  const b = [];
  for (let round = 0; round < 10; round++) {
    for (const [call, times] of [
      [callA, a],
      [callB, b],
    ]) {
      for (let i = 0; i < 20; i++) {
        const t = ms();
        await call();
        times.push(ms() - t);
      }
    }
  }
  return { a: median(a), b: median(b) };
}

/**
 * The same two ListVms answers (1 VM and many) from bare grpc-js servers,
 * alternated as the managers were: what encoding, sending and decoding the
 * answer costs any server.
 */
export async function bareList(at1, atAll) {
  const one = await bareGrpcServer({ ListVms: at1 });
  const all = await bareGrpcServer({ ListVms: atAll });
  try {
    return await alternated(
      () => one.call('ListVms', {}),
      () => all.call('ListVms', {}),
    );
  } finally {
    await one.stop();
    await all.stop();
  }
}
