import { QemuSection } from '../element.js';
import { checkSize } from '../properties.js';
import { QemuObject } from './object.js';

/**
 * `-object memory-backend-memfd,id=<id>,size=<size>,share=true,prealloc=false`:
 * guest RAM that confidential backends point the machine at.
 */
export class MemoryBackendMemfd extends QemuObject {
  constructor(id: string, size: string, options: { share?: boolean; prealloc?: boolean } = {}) {
    checkSize('memory-backend-memfd', 'size', size);
    super(
      'memory-backend-memfd',
      id,
      [
        ['size', size],
        ['share', options.share ?? true],
        ['prealloc', options.prealloc ?? false],
      ],
      QemuSection.Confidential,
    );
  }
}
