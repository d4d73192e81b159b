import { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { fromDer } from './der.js';
import { OID } from './oids.js';

/** The SignedData inside a DER ContentInfo. */
export function signedDataOf(der: Uint8Array, what: string): pkijs.SignedData {
  return signedDataIn(new pkijs.ContentInfo({ schema: fromDer(der, what) }), what);
}

/** The SignedData inside an already decoded ContentInfo. */
export function signedDataIn(contentInfo: pkijs.ContentInfo, what: string): pkijs.SignedData {
  if (contentInfo.contentType !== OID.signedData) {
    throw new Error(`${what} is not a PKCS#7 SignedData (content type ${contentInfo.contentType})`);
  }
  return new pkijs.SignedData({ schema: contentInfo.content });
}

export function certificatesOf(signedData: pkijs.SignedData): pkijs.Certificate[] {
  return (signedData.certificates ?? []).filter(
    (c): c is pkijs.Certificate => c instanceof pkijs.Certificate,
  );
}

/** The certificate that the first SignerInfo names by issuer and serial number. */
export function signerCertificateOf(signedData: pkijs.SignedData): pkijs.Certificate | undefined {
  const sid = signedData.signerInfos[0]?.sid;
  if (!(sid instanceof pkijs.IssuerAndSerialNumber)) return undefined;
  return certificatesOf(signedData).find(
    (c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber),
  );
}

export function toX509(certificate: pkijs.Certificate): X509Certificate {
  return new X509Certificate(Buffer.from(certificate.toSchema().toBER()));
}
