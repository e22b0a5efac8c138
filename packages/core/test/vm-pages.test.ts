import { describe, expect, it } from 'vitest';
import { ManagerError, MAX_VMS_PAGE_SIZE, vmsPage, VmState, type VmSummary } from '../src/index.js';

const vm = (id: string, createdAt: string): VmSummary => ({
  id,
  state: VmState.Running,
  forwardedPort: 7000,
  pid: 1,
  backend: 'plain',
  boot: 'direct',
  createdAt,
  ttlDeadline: null,
  exit: null,
  guestStatus: null,
  adopted: false,
});

/** Every page from the first, following next_page_token. */
function walk(vms: VmSummary[], size: number): string[][] {
  const pages: string[][] = [];
  let token = '';
  do {
    const page = vmsPage(vms, size, token);
    pages.push(page.vms.map((v) => v.id));
    token = page.nextPageToken;
  } while (token !== '' && pages.length < 100);
  return pages;
}

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof ManagerError ? [err.kind, err.message] : ['not a ManagerError', String(err)];
  }
  return ['no error', ''];
};

describe('ListVms pages', () => {
  // Listed in the manager's own order (an adopting VM first), created at times with a tie.
  const vms = [
    vm('d', '2026-12-03T10:00:03.000Z'),
    vm('a', '2026-12-03T10:00:01.000Z'),
    vm('c', '2026-12-03T10:00:02.000Z'),
    vm('b', '2026-12-03T10:00:02.000Z'),
    vm('e', '2026-12-03T10:00:04.000Z'),
  ];

  it('page_size 0 and no token: every VM in the order given, no next page', () => {
    expect(vmsPage(vms, 0, '')).toEqual({ vms, nextPageToken: '', total: 5 });
  });

  it('pages hold VMs oldest first, ties by id, each VM once, the last page without a token', () => {
    expect(walk(vms, 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(walk(vms, 5)).toEqual([['a', 'b', 'c', 'd', 'e']]);
    expect(walk(vms, 3)).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('a VM removed between pages does not shift the next; one created meanwhile comes on a later page', () => {
    const first = vmsPage(vms, 2, '');
    const changed = [...vms.filter((v) => v.id !== 'b' && v.id !== 'c'), vm('f', '2026-12-03T10:00:05.000Z')];
    const second = vmsPage(changed, 2, first.nextPageToken);
    expect(second.vms.map((v) => v.id)).toEqual(['d', 'e']);
    expect(vmsPage(changed, 2, second.nextPageToken).vms.map((v) => v.id)).toEqual(['f']);
  });

  it('page_size 0 with a token: everything after it', () => {
    const first = vmsPage(vms, 1, '');
    expect(vmsPage(vms, 0, first.nextPageToken)).toMatchObject({ nextPageToken: '' });
    expect(vmsPage(vms, 0, first.nextPageToken).vms.map((v) => v.id)).toEqual(['b', 'c', 'd', 'e']);
  });

  it(`a page_size above ${MAX_VMS_PAGE_SIZE} is served as ${MAX_VMS_PAGE_SIZE}`, () => {
    const many = Array.from({ length: MAX_VMS_PAGE_SIZE + 5 }, (_, i) => vm(`vm-${String(i).padStart(5, '0')}`, '2026-12-03T10:00:00.000Z'));
    const page = vmsPage(many, 5000, '');
    expect(page.vms).toHaveLength(MAX_VMS_PAGE_SIZE);
    expect(vmsPage(many, 5000, page.nextPageToken).vms.map((v) => v.id)).toEqual(many.slice(MAX_VMS_PAGE_SIZE).map((v) => v.id));
  });

  it('a token not of its making is refused, naming what is expected', () => {
    const forged = [
      'forged',
      'v1.',
      'v1.' + Buffer.from('{"a":1}').toString('base64url'),
      'v1.' + Buffer.from('["yesterday","a"]').toString('base64url'),
      'v1.' + Buffer.from('[1,2]').toString('base64url'),
      'v1.' + 'x'.repeat(600),
    ];
    for (const token of forged) {
      const [kind, message] = codeOf(() => vmsPage(vms, 2, token));
      expect(kind, token).toBe('PAGE_TOKEN_INVALID');
      expect(message).toContain('pass the next_page_token of the previous ListVms answer');
      expect(message.length).toBeLessThan(300);
    }
  });

  it('a negative or fractional page_size is refused', () => {
    for (const size of [-1, 1.5, Number.NaN]) expect(codeOf(() => vmsPage(vms, size, ''))[0], String(size)).toBe('REQUEST_FIELD_INVALID');
  });
});
