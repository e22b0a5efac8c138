import { createToken } from '../tokens.js';
import type { BackendRegistry } from './backend-registry.js';
import type { BootRegistry } from './boot-registry.js';
import type { PortAllocator } from '../vm/port-allocator.js';

/** Tokens of the kernel's own services (not meant for plugins to provide). */
export const BACKEND_REGISTRY = createToken<BackendRegistry>('kernel.backend-registry');
export const BOOT_REGISTRY = createToken<BootRegistry>('kernel.boot-registry');
export const PORT_ALLOCATOR = createToken<PortAllocator>('kernel.port-allocator');
