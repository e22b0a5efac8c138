import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { call, managerClient, startGrpcManager, type GrpcTestManager, type ManagerClient } from './harness.js';

interface Listed {
  vms: { id: string; state: string; created_at: string }[];
  next_page_token: string;
}

describe('ListVms over gRPC: pages, and answers that follow every change', () => {
  let m: GrpcTestManager;
  let client: ManagerClient;
  const ids: string[] = [];
  const list = (req: object) => call(client, 'ListVms', req) as Promise<Listed>;

  beforeAll(async () => {
    m = await startGrpcManager({ MANAGER_MAX_VMS: '10' });
    client = managerClient(`127.0.0.1:${m.port}`);
    for (let i = 0; i < 5; i++) ids.push(((await call(client, 'CreateVm', {})) as { cvm_id: string }).cvm_id);
  });
  afterAll(async () => {
    client.close();
    await m.stop();
  });

  it('walks every VM once, oldest first, in pages of two; the whole list without page_size', async () => {
    const all = await list({});
    expect(all.next_page_token).toBe('');
    expect(all.vms.map((v) => v.id).sort()).toEqual([...ids].sort());
    const walked: Listed['vms'] = [];
    const sizes: number[] = [];
    let token = '';
    do {
      const page = await list({ page_size: 2, page_token: token });
      walked.push(...page.vms);
      sizes.push(page.vms.length);
      token = page.next_page_token;
    } while (token !== '');
    expect(sizes).toEqual([2, 2, 1]);
    const key = (v: Listed['vms'][number]) => `${v.created_at} ${v.id}`;
    expect(walked.map(key)).toEqual(all.vms.map(key).sort());
  });

  it('answers each VM as it is now: a removed VM leaves the list, the rest stay as they were', async () => {
    const before = await list({});
    await call(client, 'RemoveVm', { cvm_id: ids[0] });
    const after = await list({});
    expect(after.vms.map((v) => v.id)).toEqual(before.vms.map((v) => v.id).filter((id) => id !== ids[0]));
    expect(after.vms).toEqual(before.vms.filter((v) => v.id !== ids[0]));
    // The next page after a removed VM's position still holds the rest.
    const first = await list({ page_size: 1 });
    const second = await list({ page_size: 10, page_token: first.next_page_token });
    expect([...first.vms, ...second.vms].map((v) => v.id)).toEqual(
      [...after.vms].sort((a, b) => `${a.created_at} ${a.id}`.localeCompare(`${b.created_at} ${b.id}`)).map((v) => v.id),
    );
  });

  it('refuses a forged page token and a negative page size as INVALID_ARGUMENT', async () => {
    await expect(list({ page_size: 2, page_token: 'v1.forged' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('PAGE_TOKEN_INVALID'),
    });
    await expect(list({ page_size: -3 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('page_size -3') });
  });
});
