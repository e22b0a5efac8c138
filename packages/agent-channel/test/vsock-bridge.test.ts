import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cidSocketPath, VSOCK_BRIDGE_SCRIPT, vsockBridgeArgv, vsockManifestArgv } from '../src/index.js';

const thrownBy = (f: () => unknown): unknown => {
  try {
    f();
  } catch (err) {
    return err;
  }
  return 'nothing thrown';
};

describe('the vsock bridge command line (socat; no vhost_vsock needed)', () => {
  it('listens on host port 9997, forks per connection and execs the relay on the connection itself', () => {
    expect(vsockBridgeArgv({ socat: 'socat', socketDir: '/run/cocos/agent-channel' })).toEqual([
      'socat',
      'VSOCK-LISTEN:9997,fork,reuseaddr,max-children=256',
      `EXEC:${VSOCK_BRIDGE_SCRIPT} /run/cocos/agent-channel socat,nofork`,
    ]);
    expect(vsockBridgeArgv({ socat: '/usr/bin/socat', socketDir: '/r', port: 5000, maxChildren: 8, script: '/opt/b.sh' })).toEqual([
      '/usr/bin/socat',
      'VSOCK-LISTEN:5000,fork,reuseaddr,max-children=8',
      'EXEC:/opt/b.sh /r /usr/bin/socat,nofork',
    ]);
    expect(cidSocketPath('/run/cocos/agent-channel', 7)).toBe('/run/cocos/agent-channel/cid-7.sock');
  });

  it.each([
    ['a space', '/run/my dir'],
    ['a comma (a socat option)', '/run/a,fork'],
    ['a colon (a socat address)', '/run/a:b'],
    ['a quote', "/run/a'b"],
    ['a relative path', 'run/a'],
    ['a parent step', '/run/../etc'],
  ])('refuses a socket directory with %s', (_what, socketDir) => {
    expect(thrownBy(() => vsockBridgeArgv({ socat: 'socat', socketDir }))).toMatchObject({
      kind: 'CONFIG_INVALID',
      message: expect.stringContaining(`"${socketDir}"`),
    });
  });

  it('refuses a socat that is neither a safe path nor a bare name', () => {
    expect(() => vsockBridgeArgv({ socat: 'socat -v', socketDir: '/r' })).toThrow(/MANAGER_AGENT_CHANNEL_SOCAT "socat -v"/);
    expect(() => vsockBridgeArgv({ socat: '/opt/so cat', socketDir: '/r' })).toThrow(/MANAGER_AGENT_CHANNEL_SOCAT "\/opt\/so cat"/);
  });

  it('writes a manifest one way to the VM, port 9999 at its CID', () => {
    expect(vsockManifestArgv('socat', 3)).toEqual(['socat', '-u', 'STDIN', 'VSOCK-CONNECT:3:9999']);
    expect(() => vsockManifestArgv('socat', 2)).toThrow('guest CID 2 is not within 3-4294967294');
  });
});

describe('the relay script (bin/agent-vsock-bridge.sh): the peer CID from socat, never from the guest', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cac-bridge-'));
  // Stands in for the inner socat: prints what it was asked to connect.
  const stub = path.join(dir, 'socat');
  writeFileSync(stub, '#!/bin/sh\nprintf "%s|" "$@"\n');
  chmodSync(stub, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const relay = (peer: string | undefined) => {
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
    if (peer !== undefined) env['SOCAT_PEERADDR'] = peer;
    return spawnSync('/bin/sh', [VSOCK_BRIDGE_SCRIPT, '/run/cocos/agent-channel', stub], { env, encoding: 'utf8', input: 'guest bytes' });
  };

  it("connects the connection to the socket of the peer's CID", () => {
    const run = relay('7');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe('STDIO|UNIX-CONNECT:/run/cocos/agent-channel/cid-7.sock|');
  });

  it.each([
    ['no SOCAT_PEERADDR', undefined],
    ['an empty one', ''],
    ['a path', '../3'],
    ['shell text', '3;touch /tmp/x'],
    ['a leading zero', '03'],
    ['more than 10 digits', '12345678901'],
  ])('refuses %s (exit 2, nothing connected)', (_what, peer) => {
    const run = relay(peer);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^agent-vsock-bridge: /);
  });
});
