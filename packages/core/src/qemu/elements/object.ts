import { QemuSection, type QemuElement } from '../element.js';
import { checkId, checkNonEmpty, renderOption, type QemuProperties } from '../properties.js';

/** `-object <qom-type>,id=<id>[,props]`. */
export class QemuObject implements QemuElement {
  constructor(
    readonly qomType: string,
    readonly id: string,
    readonly properties: QemuProperties = [],
    readonly section: QemuSection = QemuSection.Confidential,
  ) {
    checkNonEmpty('object', 'qom-type', qomType);
    checkId('object', 'id', id);
  }
  render(): string[] {
    return ['-object', renderOption(this.qomType, [['id', this.id], ...this.properties])];
  }
}

/** `-object <json>`: objects whose properties nest (a quote-generation socket, for one). */
export class JsonQemuObject implements QemuElement {
  constructor(
    readonly definition: { readonly 'qom-type': string; readonly id: string } & Record<string, unknown>,
    readonly section: QemuSection = QemuSection.Confidential,
  ) {
    checkNonEmpty('object', 'qom-type', definition['qom-type']);
    checkId('object', 'id', definition.id);
  }
  render(): string[] {
    return ['-object', JSON.stringify(this.definition)];
  }
}
