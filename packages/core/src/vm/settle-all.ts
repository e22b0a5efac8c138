/**
 * Waits for every one of `work`, then throws the first failure: side-by-side
 * steps of a create, none still running when a rollback undoes what they did.
 */
export async function settleAll(work: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
