import { QemuSection, type QemuElement } from '../element.js';
import { checkNonEmpty, renderProperties, type QemuProperties } from '../properties.js';

/** `-drive <props>`: any drive, properties in the order given. */
export class Drive implements QemuElement {
  constructor(
    readonly properties: QemuProperties,
    readonly section: QemuSection = QemuSection.Storage,
  ) {
    const file = properties.find(([k]) => k === 'file');
    if (file) checkNonEmpty('drive', 'file', String(file[1]));
  }
  render(): string[] {
    return ['-drive', renderProperties(this.properties)];
  }
}

/** A firmware flash drive: `-drive if=pflash,format=raw,unit=N,file=…[,readonly=on]`. */
export class PflashDrive extends Drive {
  constructor(options: { file: string; unit: number; format?: string; interface?: string; readonly?: string }) {
    const props: Array<[string, string | number]> = [
      ['if', options.interface ?? 'pflash'],
      ['format', options.format ?? 'raw'],
      ['unit', options.unit],
      ['file', options.file],
    ];
    if (options.readonly !== undefined && options.readonly !== '') props.push(['readonly', options.readonly]);
    super(props, QemuSection.Firmware);
  }
}
