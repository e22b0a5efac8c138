import { QemuElementError, QemuSection, type QemuElement } from '../element.js';
import { checkNonEmpty, escapeOptionValue } from '../properties.js';

/**
 * `-name <name>`: carries the VM id in QEMU's argv, so a restarted manager can
 * tell its own QEMU from a process that reused the pid.
 */
export class GuestName implements QemuElement {
  readonly section = QemuSection.Supervision;
  constructor(readonly name: string) {
    checkNonEmpty('name', 'guest name', name);
  }
  render(): string[] {
    return ['-name', escapeOptionValue(this.name)];
  }
}

/** The guest name a QEMU argv carries (what GuestName rendered, unescaped); null without `-name`. */
export function guestNameIn(argv: readonly string[]): string | null {
  const at = argv.indexOf('-name');
  const value = at >= 0 ? argv[at + 1] : undefined;
  return value === undefined ? null : value.replaceAll(',,', ',');
}

// sun_path is 108 bytes including the terminating NUL.
const MAX_UNIX_SOCKET_PATH = 107;

/** `-qmp unix:<path>,server=on,wait=off`: the manager's control channel to QEMU. */
export class QmpSocket implements QemuElement {
  readonly section = QemuSection.Supervision;
  constructor(readonly path: string) {
    checkNonEmpty('qmp', 'socket path', path);
    if (Buffer.byteLength(path) > MAX_UNIX_SOCKET_PATH) {
      throw new QemuElementError(
        'qmp',
        `socket path ${path} is ${Buffer.byteLength(path)} bytes; unix sockets allow at most ${MAX_UNIX_SOCKET_PATH} (use a shorter MANAGER_RUN_DIR)`,
      );
    }
  }
  render(): string[] {
    return ['-qmp', `unix:${escapeOptionValue(this.path)},server=on,wait=off`];
  }
}

/** `-no-reboot`: a guest reboot ends QEMU, so the manager sees it rather than a silent restart. */
export class NoReboot implements QemuElement {
  readonly section = QemuSection.Supervision;
  render(): string[] {
    return ['-no-reboot'];
  }
}
