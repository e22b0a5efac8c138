import { QemuElementError } from './element.js';

/** Ordered `key=value` properties of one QEMU option. */
export type QemuProperties = ReadonlyArray<readonly [string, string | number | boolean]>;

/** QEMU option values separate on ','; a literal comma is written ',,'. */
export function escapeOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

export function renderProperties(props: QemuProperties): string {
  return props.map(([k, v]) => `${k}=${escapeOptionValue(String(v))}`).join(',');
}

/** Joins an option's leading word (driver, type) with its properties. */
export function renderOption(head: string, props: QemuProperties): string {
  return props.length === 0 ? head : `${head},${renderProperties(props)}`;
}

const ID = /^[A-Za-z][A-Za-z0-9._-]*$/;

export function checkId(element: string, what: string, id: string): string {
  if (!ID.test(id)) throw new QemuElementError(element, `${what} "${id}" must start with a letter and contain only letters, digits, '-', '.' or '_'`);
  return id;
}

export function checkNonEmpty(element: string, what: string, value: string): string {
  if (value.trim() === '') throw new QemuElementError(element, `${what} must not be empty`);
  return value;
}

export function checkPort(element: string, what: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new QemuElementError(element, `${what} ${port} is not a TCP port (1-65535)`);
  return port;
}

const SIZE = /^\d+(\.\d+)?[KMGT]?$/i;

export function checkSize(element: string, what: string, size: string): string {
  if (!SIZE.test(size)) throw new QemuElementError(element, `${what} "${size}" is not a size such as 2048M or 4G`);
  return size;
}
