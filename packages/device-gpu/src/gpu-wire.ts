import type { DeviceWire } from '@cocos-manager/core';

const text = { type: 'string' } as const;

/**
 * How GPUs show in what the APIs send: a VM's `gpus` (VmInfo field 12, the
 * host PCI addresses it holds), and the host status's `gpus_in_use` and
 * `gpu_pool` (MANAGER_QEMU_GPU_BDF). The schemas are the ones the OpenAPI
 * document has always had for these fields.
 */
export const gpuWire: DeviceWire = {
  vmFields: (held) => ({ gpus: held.map((assignment) => assignment.values['bdf'] ?? '') }),
  hostFields: (pool) => ({ gpus_in_use: [...pool.inUse], gpu_pool: [...pool.resources] }),
  schemas: {
    vm: { gpus: { type: 'array', items: text, description: 'host PCI addresses of its passed-through GPUs' } },
    host: {
      gpus_in_use: { type: 'array', items: text },
      gpu_pool: { anyOf: [{ type: 'null' }, { type: 'array', items: text }], description: 'null without a GPU plugin' },
    },
  },
};
