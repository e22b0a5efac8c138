import { describe, expect, it } from 'vitest';
import { ConfigError, coreSettings, formats as f, setting, type PortRange } from '../src/index.js';
import { loadManagerConfig } from '../src/internal.js';

const load = (env: Record<string, string> = {}, extra: Array<{ owner: string; slice: object }> = []) =>
  loadManagerConfig([{ owner: '@cocos-manager/core', slice: coreSettings }, ...(extra as never[])], env);

describe('core configuration', () => {
  it('has the seed defaults', () => {
    const c = load();
    const expected: Record<string, unknown> = {
      'qemu.binPath': 'qemu-system-x86_64',
      'qemu.useSudo': false,
      'qemu.enableKvm': true,
      'qemu.machine': 'q35',
      'qemu.cpu': 'EPYC',
      'qemu.smpCount': 4,
      'qemu.smpMaxCpus': 64,
      'qemu.memorySize': '2048M',
      'qemu.memorySlots': 5,
      'qemu.maxMemory': '30G',
      'qemu.memId': 'ram1',
      'qemu.netdevId': 'vmnic',
      'qemu.hostFwdAgent': 7020,
      'qemu.guestFwdAgent': 7002,
      'qemu.virtioNetPci.disableLegacy': 'on',
      'qemu.virtioNetPci.iommuPlatform': 'true',
      'qemu.virtioNetPci.addr': '0x2',
      'qemu.virtioNetPci.romfile': '',
      'qemu.kernelFile': 'img/bzImage',
      'qemu.rootfsFile': 'img/rootfs.cpio.gz',
      'qemu.kernelCmdline': 'quiet console=null',
      'qemu.noGraphic': true,
      'qemu.monitor': 'pty',
      'qemu.ovmfVersion': '',
      'manager.maxVms': 10,
      'manager.logLevel': 'info',
    };
    for (const [key, value] of Object.entries(expected)) expect(c.get(key), key).toEqual(value);
    expect(c.get<PortRange>('qemu.hostFwdRange')).toEqual({ first: 6100, last: 6200 });
  });

  it('reads the environment and types the values', () => {
    const c = load({ MANAGER_QEMU_SMP_COUNT: '2', MANAGER_QEMU_ENABLE_KVM: 'F', MANAGER_QEMU_HOST_FWD_RANGE: '7000-7000', MANAGER_VM_STOP_TIMEOUT: '1m30s' });
    expect(c.get('qemu.smpCount')).toBe(2);
    expect(c.get('qemu.enableKvm')).toBe(false);
    expect(c.get('qemu.hostFwdRange')).toEqual({ first: 7000, last: 7000 });
    expect(c.get('manager.stopTimeout')).toBe(90_000);
  });

  it('treats an empty variable as unset', () => {
    expect(load({ MANAGER_QEMU_CPU: '' }).get('qemu.cpu')).toBe('EPYC');
  });

  it.each([
    ['MANAGER_QEMU_HOST_FWD_RANGE', '6200-6100', 'MANAGER_QEMU_HOST_FWD_RANGE="6200-6100": expected a port range FIRST-LAST'],
    ['MANAGER_QEMU_HOST_FWD_RANGE', '6100', 'MANAGER_QEMU_HOST_FWD_RANGE="6100": expected a port range'],
    ['MANAGER_QEMU_MEMORY_SIZE', 'lots', 'MANAGER_QEMU_MEMORY_SIZE="lots": expected a memory size'],
    ['MANAGER_QEMU_GUEST_FWD_AGENT', 'seven', 'MANAGER_QEMU_GUEST_FWD_AGENT="seven": expected a TCP port number between 1 and 65535'],
    ['MANAGER_QEMU_GUEST_FWD_AGENT', '70000', 'MANAGER_QEMU_GUEST_FWD_AGENT="70000": expected a TCP port'],
    ['MANAGER_LOG_LEVEL', 'loud', 'MANAGER_LOG_LEVEL="loud": expected one of trace, debug, info, warn, error, fatal, silent'],
    ['MANAGER_QEMU_ENABLE_KVM', 'maybe', 'MANAGER_QEMU_ENABLE_KVM="maybe": expected a boolean'],
    ['MANAGER_MAX_VMS', '0', 'MANAGER_MAX_VMS="0": expected an integer between 1 and 4096'],
    ['MANAGER_QEMU_SMP_COUNT', '1.5', 'MANAGER_QEMU_SMP_COUNT="1.5": expected an integer'],
    ['MANAGER_QEMU_NETDEV_ID', 'vm nic', 'MANAGER_QEMU_NETDEV_ID="vm nic": expected a QEMU id'],
    ['MANAGER_VM_STOP_TIMEOUT', '10', 'MANAGER_VM_STOP_TIMEOUT="10": expected a positive Go duration'],
  ])('%s=%s stops start-up with one line', (env, value, message) => {
    let error: unknown;
    try {
      load({ [env]: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message.startsWith(message)).toBe(true);
    expect((error as Error).message).not.toContain('\n');
  });

  const aliasSlice = {
    owner: 'x',
    slice: {
      sev: {
        cbitpos: setting({
          env: 'MANAGER_QEMU_SEV_SNP_CBITPOS',
          aliases: ['MANAGER_QEMU_SEV_SNP_CBIT_POS'],
          doc: 'c-bit',
          default: '51',
          format: f.integer(0, 63),
        }),
      },
    },
  };

  it('accepts either spelling of an aliased variable, and names the one used in errors', () => {
    expect(load({ MANAGER_QEMU_SEV_SNP_CBIT_POS: '47' }, [aliasSlice]).get('sev.cbitpos')).toBe(47);
    expect(load({ MANAGER_QEMU_SEV_SNP_CBITPOS: '48' }, [aliasSlice]).get('sev.cbitpos')).toBe(48);
    expect(() => load({ MANAGER_QEMU_SEV_SNP_CBIT_POS: 'x' }, [aliasSlice])).toThrow(/^MANAGER_QEMU_SEV_SNP_CBIT_POS="x"/);
    expect(() => load({ MANAGER_QEMU_SEV_SNP_CBITPOS: '1', MANAGER_QEMU_SEV_SNP_CBIT_POS: '2' }, [aliasSlice])).toThrow(/both set, to different values/);
  });

  it('a list of values with capitals takes any case and answers the value as listed; others are refused, naming the list', () => {
    const products = {
      owner: 'x',
      slice: { product: setting({ env: 'X_PRODUCT', doc: '', default: '', format: f.oneOf(['', 'Milan', 'Genoa', 'Turin'] as const) }) },
    };
    expect(load({ X_PRODUCT: 'Milan' }, [products]).get('product')).toBe('Milan');
    expect(load({ X_PRODUCT: 'turin' }, [products]).get('product')).toBe('Turin');
    expect(load({}, [products]).get('product')).toBe('');
    expect(() => load({ X_PRODUCT: 'Rome' }, [products])).toThrow(/^X_PRODUCT="Rome": expected one of , Milan, Genoa, Turin/);
  });

  it('refuses two slices declaring the same variable, naming both owners', () => {
    const dup = { owner: 'acme-plugin', slice: { other: { cpu: setting({ env: 'MANAGER_QEMU_CPU', doc: '', default: 'x', format: f.text }) } } };
    expect(() => load({}, [dup])).toThrow(
      'environment variable MANAGER_QEMU_CPU is declared by both @cocos-manager/core (qemu.cpu) and acme-plugin (other.cpu)',
    );
  });

  it('never shows a sensitive value', () => {
    const secret = { owner: 'x', slice: { token: setting({ env: 'X_TOKEN', doc: '', default: '', format: f.nonEmptyText, sensitive: true }) } };
    expect(() => load({}, [secret])).toThrow('X_TOKEN (default)=<redacted>: expected a non-empty string');
    expect(load({ X_TOKEN: 's3cret' }, [secret]).toEnvRecord()['X_TOKEN']).toBe('<redacted>');
  });

  it('lists every setting with its owner, for generated docs', () => {
    const envs = load()
      .settings()
      .map((s) => s.env);
    expect(envs).toContain('MANAGER_QEMU_HOST_FWD_RANGE');
    expect(envs).toContain('MANAGER_RUN_DIR');
    expect(new Set(envs).size).toBe(envs.length);
  });

  it('leaves backend switches to the backends that read them', () => {
    const envs = load()
      .settings()
      .map((s) => s.env);
    expect(envs).not.toContain('MANAGER_QEMU_ENABLE_SEV_SNP');
    expect(envs).not.toContain('MANAGER_QEMU_ENABLE_TDX');
    // Shared by every backend with a memory object, so declared once, by core.
    expect(envs).toContain('MANAGER_QEMU_MEM_ID');
  });

  it('reads a slice typed, and refuses a slice no loaded plugin declared', () => {
    const values = load({ MANAGER_QEMU_SEV_SNP_CBITPOS: '47' }, [aliasSlice]).read(aliasSlice.slice);
    expect(values.sev.cbitpos).toBe(47);
    expect(() => load().read(aliasSlice.slice)).toThrow(
      'configuration key "sev.cbitpos" (MANAGER_QEMU_SEV_SNP_CBITPOS) is not declared by core or any loaded plugin',
    );
  });

  it('refuses reading an undeclared key', () => {
    expect(() => load().get('qemu.nope')).toThrow(/not declared/);
  });
});
