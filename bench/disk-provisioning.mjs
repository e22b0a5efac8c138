// Disk provisioning benchmark (storage-disk): how long preparing one VM's disk
// takes in overlay and copy mode, for 64 MiB, 1 GiB and 8 GiB references
// filled with data, measured side by side in one run. Run with `npm run bench`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { coreSettings, emptyCreateVmRequest, VmContext } from '@cocos-manager/core';
import { loadManagerConfig } from '@cocos-manager/core/internal';
import { DiskBootStrategy, diskSettings } from '@cocos-manager/storage-disk';

const SIZES = [
  ['64 MiB', '64M'],
  ['1 GiB', '1G'],
  ['8 GiB', '8G'],
];
const RUNS = { overlay: 7, copy: 3 };

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => Math.max(...xs) - Math.min(...xs);

async function provisionTimes(reference, mode, runs, work) {
  const config = loadManagerConfig(
    [
      { owner: '@cocos-manager/core', slice: coreSettings },
      { owner: '@cocos-manager/storage-disk', slice: diskSettings },
    ],
    { MANAGER_QEMU_ENABLE_DISK: 'true', MANAGER_QEMU_SRC_DISK_FILE: reference, MANAGER_QEMU_DISK_PROVISIONING: mode },
  );
  const strategy = new DiskBootStrategy(config);
  await strategy.validate();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(path.join(work, `${mode}-`));
    const vm = new VmContext(`bench-${mode}-${i}`, dir, 6100, emptyCreateVmRequest(), '');
    const started = process.hrtime.bigint();
    await strategy.prepare(vm);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    await strategy.cleanup(vm);
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

export async function runDiskProvisioning() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'cm-bench-disk-'));
  const figures = [];
  try {
    for (const [label, size] of SIZES) {
      const reference = path.join(work, `ref-${size}.qcow2`);
      await execa('qemu-img', ['create', '-q', '-f', 'qcow2', reference, size]);
      // Real data, so a copy has something to copy (an empty image copies instantly).
      const bytes = { '64M': 64 * 2 ** 20, '1G': 2 ** 30, '8G': 8 * 2 ** 30 }[size];
      const chunk = Math.min(bytes, 2 ** 30); // qemu-io writes at most 2 GiB per command
      const writes = Array.from({ length: bytes / chunk }, (_, i) => ['-c', `write -P 0x5a ${i * chunk} ${chunk}`]).flat();
      await execa('qemu-io', ['-f', 'qcow2', ...writes, reference]);
      const overlay = await provisionTimes(reference, 'overlay', RUNS.overlay, work);
      const copy = await provisionTimes(reference, 'copy', RUNS.copy, work);
      const ratio = median(overlay) / median(copy);
      const line = {
        reference: label,
        overlayMs: +median(overlay).toFixed(1),
        overlaySpreadMs: +spread(overlay).toFixed(1),
        copyMs: +median(copy).toFixed(1),
        copySpreadMs: +spread(copy).toFixed(1),
        overlayOverCopy: +ratio.toFixed(4),
      };
      console.log(JSON.stringify(line));
      figures.push({
        name: `disk provisioning, overlay vs copy, ${label} reference`,
        value: line.overlayMs,
        unit: 'ms',
        baseline: line.copyMs,
        ratio: line.overlayOverCopy,
        goal: label === '8 GiB' ? 'overlay ≤ 100 ms' : 'overlay independent of size',
        met: label === '8 GiB' ? line.overlayMs <= 100 : true,
      });
      rmSync(reference);
    }
    const overlays = figures.map((f) => f.value);
    const flat = Math.max(...overlays) <= 2 * Math.min(...overlays) + 20;
    figures.forEach((f) => {
      if (f.goal === 'overlay independent of size') f.met = flat;
    });
    return figures;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
