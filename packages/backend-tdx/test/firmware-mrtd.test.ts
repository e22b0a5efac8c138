import { describe, expect, it } from 'vitest';
import { ConfigError, coreSettings, ErrorCode, ManagerError, type LaunchMeasurementRequest, type LaunchMeasurer, type Logger } from '@cocos-manager/core';
import { loadManagerConfig } from '@cocos-manager/core/internal';
import { FirmwareMrtd, TdxBackend, tdxSettings } from '../src/index.js';

const computed = '7d'.repeat(48);
/** LAUNCH_MEASURER as the backend sees it: a double answering a fixed MRTD (or failing), recording requests. */
function measurer(answer: string | Error) {
  const requests: LaunchMeasurementRequest[] = [];
  const double: LaunchMeasurer = {
    measure: async (request) => {
      requests.push(request);
      if (answer instanceof Error) throw answer;
      return { digest: Buffer.from(answer, 'hex'), warnings: [] };
    },
  };
  return { double, requests };
}
const config = (env: Record<string, string>) =>
  loadManagerConfig(
    [
      { owner: '@cocos-manager/core', slice: coreSettings },
      { owner: '@cocos-manager/backend-tdx', slice: tdxSettings },
    ],
    env,
  );
const mrtdOf = async (env: Record<string, string>, m: LaunchMeasurer | null, logger: Logger | null = null) => {
  const doc = await new TdxBackend(config(env), new FirmwareMrtd(m, logger)).attestationPolicy();
  const body = (doc.json as { policy: { tdQuoteBodyPolicy: { mrTd?: string } } }).policy.tdQuoteBodyPolicy;
  return { mrtd: body.mrTd === undefined ? undefined : Buffer.from(body.mrTd, 'base64').toString('hex'), doc };
};

describe('the MRTD of the TDX policy', () => {
  it('is computed from MANAGER_QEMU_OVMF_FILE when MANAGER_MRTD is empty, and goes into the CoRIM measurements', async () => {
    const m = measurer(computed);
    const { mrtd, doc } = await mrtdOf({ MANAGER_QEMU_OVMF_FILE: '/fw/tdx.fd' }, m.double);
    expect(mrtd).toBe(computed);
    expect(m.requests).toEqual([{ mode: 'tdx', ovmf: '/fw/tdx.fd' }]);
    expect(doc.measurements.map((x) => [x.name, Buffer.from(x.digest).toString('hex')])).toEqual([['mrtd', computed]]);
  });
  it('MANAGER_MRTD equal to the computed value (any case) is accepted', async () => {
    expect((await mrtdOf({ MANAGER_MRTD: computed.toUpperCase() }, measurer(computed).double)).mrtd).toBe(computed);
  });
  it('MANAGER_MRTD different from it is a configuration error naming both (start-up stops: validate() builds the policy)', async () => {
    const backend = new TdxBackend(
      config({ MANAGER_MRTD: '44'.repeat(48), MANAGER_QEMU_OVMF_FILE: '/usr/share/ovmf/OVMF.fd' }),
      new FirmwareMrtd(measurer(computed).double),
    );
    const err = await backend.validate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^MANAGER_MRTD=${'44'.repeat(48)} does not match the MRTD of MANAGER_QEMU_OVMF_FILE="/usr/share/ovmf/OVMF.fd", computed from its TDVF metadata: ${computed}`,
      ),
    );
  });
  it('a firmware that cannot be measured: with MANAGER_MRTD, a warning and the given value; without, FAILED_PRECONDITION naming the file', async () => {
    const failing = measurer(new ManagerError('ATTESTATION_UNAVAILABLE', '/fw/x.fd: no TDVF metadata'));
    const warnings: string[] = [];
    const logger = { warn: (_f: unknown, msg: string) => warnings.push(msg) } as unknown as Logger;
    expect((await mrtdOf({ MANAGER_QEMU_OVMF_FILE: '/fw/x.fd', MANAGER_MRTD: '44'.repeat(48) }, failing.double, logger)).mrtd).toBe('44'.repeat(48));
    expect(warnings).toEqual(['cannot check MANAGER_MRTD against the firmware, using it as given: /fw/x.fd: no TDVF metadata']);
    const err = await mrtdOf({ MANAGER_QEMU_OVMF_FILE: '/fw/x.fd' }, failing.double).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.FailedPrecondition });
    expect((err as Error).message).toBe(
      'MANAGER_QEMU_OVMF_FILE="/fw/x.fd": cannot compute the TDX MRTD (/fw/x.fd: no TDVF metadata); set MANAGER_MRTD to give it',
    );
  });
  it('without a measurer (a build without @cocos-manager/measure): MANAGER_MRTD alone, as before', async () => {
    expect((await mrtdOf({ MANAGER_MRTD: '44'.repeat(48) }, null)).mrtd).toBe('44'.repeat(48));
    expect((await mrtdOf({}, null)).mrtd).toBeUndefined();
  });
});
