import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

/** Paths of a throw-away PKI made by `makeTestPki`. */
export interface TestPki {
  readonly dir: string;
  /** `<name>.pem` / `<name>.key` inside `dir`. */
  file(name: string): string;
  /** Issues one more certificate `<name>.pem` (key `<name>.key`) with CN `cn`, signed by the CA `signer` (a leaf unless `extension` says otherwise). */
  issue(signer: string, name: string, cn: string, extension?: string): Promise<void>;
}

const LEAF = 'basicConstraints=CA:FALSE';

/**
 * A PKI for TLS tests, made with the openssl CLI: CAs `ca`, `client-ca` and
 * `other-ca`; `server` (localhost, 127.0.0.1) signed by `ca`; `client` signed
 * by `client-ca`; `stranger` signed by `other-ca`. P-256 keys, one day.
 */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const file = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const ca = (name: string) =>
    execa('openssl', ['req', '-x509', ...ec, '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`), '-days', '1', '-subj', `/CN=${name}`]);
  const issue = async (signer: string, name: string, cn: string, extension = LEAF) => {
    await execa('openssl', ['req', ...ec, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`), '-subj', `/CN=${cn}`]);
    writeFileSync(file(`${name}.ext`), `${extension}\n`);
    await execa('openssl', [
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file(`${signer}.pem`),
      '-CAkey',
      file(`${signer}.key`),
      '-CAcreateserial',
      '-out',
      file(`${name}.pem`),
      '-days',
      '1',
      '-extfile',
      file(`${name}.ext`),
    ]);
  };
  await Promise.all([ca('ca'), ca('client-ca'), ca('other-ca')]);
  await issue('ca', 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  await issue('client-ca', 'client', 'cocos-cli');
  await issue('other-ca', 'stranger', 'stranger');
  return { dir, file, issue };
}
