import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { nodeCrypto } from '@cocos-manager/core';

const { createHash } = nodeCrypto;

/** Every entry under a directory (paths relative to it), described by type, mode, size, content hash or link target. */
export type FsSnapshot = ReadonlyMap<string, string>;

export interface FsDiff {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
}

/** Walks `root` without following links: a link is recorded as a link, never entered. */
export function snapshotTree(root: string): FsSnapshot {
  const entries = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = lstatSync(full);
      const mode = (st.mode & 0o7777).toString(8);
      const rel = path.relative(root, full);
      if (st.isSymbolicLink()) entries.set(rel, `link -> ${readlinkSync(full)}`);
      else if (st.isDirectory()) {
        entries.set(rel, `dir ${mode}`);
        walk(full);
      } else if (st.isFile()) {
        entries.set(rel, `file ${mode} ${st.size} ${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
      } else entries.set(rel, `other ${mode}`);
    }
  };
  walk(root);
  return entries;
}

/** What changed from one snapshot to the next; `only` keeps the paths a caller looks at. */
export function diffSnapshots(before: FsSnapshot, after: FsSnapshot, only: (rel: string) => boolean = () => true): FsDiff {
  const added = [...after.keys()].filter((k) => !before.has(k) && only(k));
  const removed = [...before.keys()].filter((k) => !after.has(k) && only(k));
  const changed = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k) && only(k));
  return { added, removed, changed };
}

/** True when `child` is `parent` or lies under it (both absolute). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
