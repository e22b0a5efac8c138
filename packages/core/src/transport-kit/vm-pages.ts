import { ManagerError } from '../errors.js';
import type { VmPage, VmSummary } from '../api/vm-types.js';

/** The most VMs one page holds: a larger page_size is served as this. */
export const MAX_VMS_PAGE_SIZE = 1000;

/** What a page is cut by: a VM's position. */
export interface PagePosition {
  readonly createdAt: string;
  readonly id: string;
}

/** A page of items (`pageOf`): the page, the next token, how many there are in all. */
export interface PositionsPage<T> {
  readonly items: T[];
  readonly nextPageToken: string;
  readonly total: number;
}

const TOKEN_PREFIX = 'v1.';
/** An RFC 3339 instant as Date.toISOString writes it (the VMs' created_at). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Paging order: oldest first, ties by id, so a position is (created_at, id) and survives VMs coming and going. */
export function comparePositions(a: PagePosition, b: PagePosition): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

function tokenOf(vm: PagePosition): string {
  return TOKEN_PREFIX + Buffer.from(JSON.stringify([vm.createdAt, vm.id]), 'utf8').toString('base64url');
}

function invalidToken(token: string): ManagerError {
  const shown = token.length > 40 ? `${token.slice(0, 40)}…` : token;
  return new ManagerError(
    'PAGE_TOKEN_INVALID',
    `page_token "${shown}" is not one this manager gave: pass the next_page_token of the previous ListVms answer, or none for the first page`,
  );
}

/** The position a page token names: the (created_at, id) of the last VM of the page before. */
function positionOf(token: string): PagePosition {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 512) throw invalidToken(token);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw invalidToken(token);
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string' || !ISO_INSTANT.test(parsed[0]))
    throw invalidToken(token);
  return { createdAt: parsed[0], id: parsed[1] };
}

/**
 * A page of `sorted` (ListVms' page_size and page_token), which is in paging
 * order (comparePositions; `at` gives an item's position): at most `pageSize`
 * items (0: all that are left; above MAX_VMS_PAGE_SIZE: that many) after the
 * position the token names, found by bisection, so a page costs its own
 * items, not the list's. A VM removed between pages does not shift the next
 * page; one created meanwhile is on a later page.
 */
export function pageOf<T>(sorted: readonly T[], pageSize: number, pageToken: string, at: (item: T) => PagePosition): PositionsPage<T> {
  if (!Number.isInteger(pageSize) || pageSize < 0)
    throw new ManagerError('REQUEST_FIELD_INVALID', `page_size ${pageSize} is invalid: 0 (every VM) or a page of 1 to ${MAX_VMS_PAGE_SIZE} VMs is expected`);
  let start = 0;
  if (pageToken !== '') {
    const after = positionOf(pageToken);
    let end = sorted.length;
    while (start < end) {
      const mid = (start + end) >>> 1;
      if (comparePositions(at(sorted[mid]!), after) <= 0) start = mid + 1;
      else end = mid;
    }
  }
  const left = sorted.length - start;
  const size = pageSize === 0 ? left : Math.min(pageSize, MAX_VMS_PAGE_SIZE);
  const items = sorted.slice(start, start + size);
  return { items, nextPageToken: left > size ? tokenOf(at(items[items.length - 1]!)) : '', total: sorted.length };
}

/** A page of VM summaries in any order; page_size 0 with no token is every VM in the order given, as before paging existed. */
export function vmsPage(vms: readonly VmSummary[], pageSize: number, pageToken: string): VmPage {
  if (pageSize === 0 && pageToken === '') return { vms: [...vms], nextPageToken: '', total: vms.length };
  const page = pageOf([...vms].sort(comparePositions), pageSize, pageToken, (vm) => vm);
  return { vms: page.items, nextPageToken: page.nextPageToken, total: page.total };
}
