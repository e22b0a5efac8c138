import { MeasureError, MeasureErrorCode } from '../errors.js';
import type { ReportMismatch } from './report-checks.js';
import type { SnpReport } from './snp-report.js';
import type { X509Certificate } from 'node:crypto';
import { nodeCrypto } from '@cocos-manager/core';

const { verify } = nodeCrypto;

/** The certificates of a PEM bundle or a DER file, or an error naming the file. */
export function readCertificates(file: string, data: Buffer): X509Certificate[] {
  const text = data.toString('latin1');
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  try {
    return pems ? pems.map((pem) => new nodeCrypto.X509Certificate(pem)) : [new nodeCrypto.X509Certificate(data)];
  } catch (err) {
    throw new MeasureError(MeasureErrorCode.BadCertificate, file, `not a PEM or DER X.509 certificate (${(err as Error).message})`);
  }
}

const selfSigned = (c: X509Certificate) => c.checkIssued(c) && c.verify(c.publicKey);

/** From a file that may bundle ASK and ARK (as AMD's KDS serves them): the one asked for. */
export function pickCertificate(certs: X509Certificate[], role: 'ark' | 'other'): X509Certificate | undefined {
  return role === 'ark' ? (certs.find(selfSigned) ?? certs[0]) : (certs.find((c) => !selfSigned(c)) ?? certs[0]);
}

/** AMD's 72-byte little-endian integer as the 48 big-endian bytes of a P-384 scalar, or null when it does not fit. */
function scalar(le: Buffer): Buffer | null {
  if (le.subarray(48).some((b) => b !== 0)) return null;
  return Buffer.from(le.subarray(0, 48)).reverse();
}

/** The report's signature by the VCEK (or VLEK): ECDSA P-384 over its first 0x2a0 bytes, SHA-384. */
export function checkSignature(report: SnpReport, vcek: X509Certificate): ReportMismatch[] {
  if (report.signatureAlgo !== 1) return [{ field: 'signature_algo', problem: `${report.signatureAlgo}, expected 1 (ECDSA P-384 with SHA-384)` }];
  const details = vcek.publicKey.asymmetricKeyDetails;
  if (vcek.publicKey.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'secp384r1') {
    return [{ field: 'vcek', problem: `its key is ${vcek.publicKey.asymmetricKeyType} ${details?.namedCurve ?? ''}, expected EC P-384`.replace(/ +,/, ',') }];
  }
  const r = scalar(report.signatureR);
  const s = scalar(report.signatureS);
  const ok = r !== null && s !== null && verify('sha384', report.signed, { key: vcek.publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.concat([r, s]));
  return ok ? [] : [{ field: 'signature', problem: `does not verify with the VCEK (${vcek.subject.replace(/\n/g, ', ')})` }];
}

/** VCEK issued and signed by the ASK, the ASK by the ARK, the ARK by itself. */
export function checkChain(vcek: X509Certificate, ask: X509Certificate | undefined, ark: X509Certificate | undefined): ReportMismatch[] {
  const out: ReportMismatch[] = [];
  const link = (field: string, child: X509Certificate, parent: X509Certificate, what: string) => {
    if (!child.checkIssued(parent) || !child.verify(parent.publicKey))
      out.push({ field, problem: `${what} is not signed by the given issuer (${parent.subject.replace(/\n/g, ', ')})` });
  };
  if (ask) link('chain', vcek, ask, 'the VCEK');
  if (ask && ark) link('chain', ask, ark, 'the ASK');
  if (ark && !selfSigned(ark)) out.push({ field: 'chain', problem: 'the ARK is not self-signed' });
  return out;
}
