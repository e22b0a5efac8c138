// The quick start's client: CreateVm over gRPC, wait for the dev guest's
// agent port, print its answer; with "1" as second argument, RemoveVm after.
import grpc from '@grpc/grpc-js';
import { loadManagerProto } from '@cocos-manager/contract';

const [address, removeAfter] = process.argv.slice(2);
const { ManagerService } = loadManagerProto();
const client = new ManagerService(address, grpc.credentials.createInsecure());
const call = (method, request) => new Promise((resolve, reject) => client[method](request, (err, res) => (err ? reject(err) : resolve(res))));

try {
  const started = Date.now();
  const vm = await call('CreateVm', { agent_log_level: 'info', agent_cvm_client_cert: Buffer.from('quickstart certificate\n') });
  console.log(`quickstart: created VM ${vm.cvm_id}, forwarded port ${vm.forwarded_port}`);
  let answer;
  while (!answer && Date.now() - started < 120_000) {
    try {
      const res = await fetch(`http://127.0.0.1:${vm.forwarded_port}/`, { signal: AbortSignal.timeout(3000) });
      if (res.ok) answer = await res.text();
    } catch {
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  if (!answer) throw new Error(`the guest did not answer on port ${vm.forwarded_port} within 120 s`);
  console.log(`quickstart: the guest answered on port ${vm.forwarded_port} after ${((Date.now() - started) / 1000).toFixed(1)} s:`);
  process.stdout.write(answer.replace(/^/gm, '  '));
  if (removeAfter === '1') {
    await call('RemoveVm', { cvm_id: vm.cvm_id });
    console.log(`quickstart: removed VM ${vm.cvm_id}`);
  }
  client.close();
} catch (err) {
  console.error(`quickstart: ${err.details ?? err.message}`);
  process.exit(1);
}
