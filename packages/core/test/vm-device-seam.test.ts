import { describe, expect, it } from 'vitest';
import { FwCfgString, QemuCommand, QemuSection, Device } from '../src/index.js';
import { parseStateRecord, STATE_VERSION } from '../src/vm/state/state-record.js';

const ID = '11111111-2222-3333-4444-555555555555';
const record = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    version: STATE_VERSION,
    id: ID,
    state: 'running',
    pid: 42,
    pidStartTime: '1234',
    hostPort: 6100,
    backend: 'x',
    boot: 'ram',
    createdAt: '2026-01-01T00:00:00.000Z',
    ttlDeadline: null,
    kernelCommandLine: 'quiet',
    exit: null,
    ...extra,
  });

describe('FwCfgString (-fw_cfg)', () => {
  it('renders name and string, in the Devices section between Storage and Confidential', () => {
    const element = new FwCfgString('opt/ovmf/X-PciMmio64Mb', '262144');
    expect(element.render()).toEqual(['-fw_cfg', 'name=opt/ovmf/X-PciMmio64Mb,string=262144']);
    expect(element.section).toBe(QemuSection.Devices);
    expect(QemuSection.Storage < QemuSection.Devices && QemuSection.Devices < QemuSection.Confidential).toBe(true);
    const command = new QemuCommand('qemu').add(new Device('tee', [], QemuSection.Confidential), element, new Device('scsi-hd', [], QemuSection.Storage));
    expect(command.args()).toEqual(['-device', 'scsi-hd', '-fw_cfg', 'name=opt/ovmf/X-PciMmio64Mb,string=262144', '-device', 'tee']);
  });

  it('refuses an empty or comma-carrying name and an empty value', () => {
    expect(() => new FwCfgString('', '1')).toThrow('fw_cfg: name must not be empty');
    expect(() => new FwCfgString('opt/a,file=/etc/shadow', '1')).toThrow(
      'fw_cfg: name "opt/a,file=/etc/shadow" must be at most 55 characters without commas or spaces',
    );
    expect(() => new FwCfgString('opt/a', ' ')).toThrow('fw_cfg: string must not be empty');
  });
});

describe('device assignments in a VM state record', () => {
  it('are read back; a record from before devices existed has none', () => {
    const devices = [{ device: 'gpu', values: { bdf: '0000:41:00.0' } }];
    expect(parseStateRecord(record({ devices }), ID)).toMatchObject({ record: { devices } });
    const old = parseStateRecord(record(), ID);
    expect('record' in old && old.record.devices).toBeUndefined();
  });

  it.each([
    ['not a list', { devices: 'gpu' }, /^devices must be a list of at most 16 device assignments \(got "gpu"\)$/],
    ['a bad device name', { devices: [{ device: '../x', values: {} }] }, /^devices devices\[\]\.device must be a plugin name/],
    ['values not strings', { devices: [{ device: 'gpu', values: { bdf: 41 } }] }, /^devices values\.bdf must be a string/],
    ['a bad values key', { devices: [{ device: 'gpu', values: { 'a b': 'x' } }] }, /^devices values key "a b" must be a short name/],
    ['no values', { devices: [{ device: 'gpu' }] }, /^devices values must be an object of strings/],
  ])('refuse %s', (_what, extra, problem) => {
    const parsed = parseStateRecord(record(extra), ID);
    expect('problem' in parsed ? parsed.problem : 'accepted').toMatch(problem);
  });
});
