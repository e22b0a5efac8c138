/**
 * What one device gave one VM: a small JSON record, persisted in the VM's
 * state file so a restarted manager knows what its re-adopted VMs hold.
 * `device` is the providing VmDevice's `name`; `values` are the device's own
 * (a passed-through PCI device's `{ bdf: '0000:41:00.0' }`). Strings only: it
 * is validated on load like every other field of a state record, and never
 * carries secrets.
 */
export interface DeviceAssignment {
  readonly device: string;
  readonly values: Readonly<Record<string, string>>;
}
