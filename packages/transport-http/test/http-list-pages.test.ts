import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCreateVmRequest } from '@cocos-manager/core';
import { request, startHttpManager, type HttpManager } from './harness.js';

interface Listed {
  vms: { id: string; created_at: string }[];
  next_page_token?: string;
}

describe('GET /vms in pages', () => {
  let m: HttpManager;
  const ids: string[] = [];
  const get = async (query: string) => {
    const res = await request(m.port, { path: `/vms${query}` });
    return { status: res.status, body: JSON.parse(res.body) as Listed & { error?: { reason: string; message: string } } };
  };

  beforeAll(async () => {
    m = await startHttpManager();
    for (let i = 0; i < 3; i++) ids.push((await m.service.create(emptyCreateVmRequest())).id);
  });
  afterAll(() => m.stop());

  it('without page_size or page_token: every VM and no next_page_token, as before paging', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['vms']);
    expect(body.vms.map((v) => v.id).sort()).toEqual([...ids].sort());
  });

  it('pages of two: every VM once, oldest first, then an empty next_page_token', async () => {
    const first = await get('?page_size=2');
    expect(first.body.vms).toHaveLength(2);
    expect(first.body.next_page_token).not.toBe('');
    const second = await get(`?page_size=2&page_token=${encodeURIComponent(first.body.next_page_token!)}`);
    expect(second.body).toMatchObject({ next_page_token: '' });
    const walked = [...first.body.vms, ...second.body.vms].map((v) => `${v.created_at} ${v.id}`);
    expect(walked).toEqual([...walked].sort());
    expect(walked.map((k) => k.split(' ')[1]).sort()).toEqual([...ids].sort());
  });

  it('a page_size that is no count, a forged token, a token given twice: 400 with the stable code', async () => {
    for (const [query, code] of [
      ['?page_size=two', 'REQUEST_FIELD_INVALID'],
      ['?page_size=-1', 'REQUEST_FIELD_INVALID'],
      ['?page_size=2&page_token=nope', 'PAGE_TOKEN_INVALID'],
      ['?page_token=a&page_token=b', 'PAGE_TOKEN_INVALID'],
    ]) {
      const { status, body } = await get(query!);
      expect([query, status, body.error?.reason]).toEqual([query, 400, code]);
    }
  });
});
