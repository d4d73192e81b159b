import { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { fromDer } from './der.js';
import { OID } from './oids.js';
/** The SignedData inside a DER ContentInfo. */
export function signedDataOf(der, what) {
    const contentInfo = new pkijs.ContentInfo({ schema: fromDer(der, what) });
    if (contentInfo.contentType !== OID.signedData) {
        throw new Error(`${what} is not a PKCS#7 SignedData (content type ${contentInfo.contentType})`);
    }
    return new pkijs.SignedData({ schema: contentInfo.content });
}
export function certificatesOf(signedData) {
    return (signedData.certificates ?? []).filter((c) => c instanceof pkijs.Certificate);
}
/** The certificate that the first SignerInfo names by issuer and serial number. */
export function signerCertificateOf(signedData) {
    const sid = signedData.signerInfos[0]?.sid;
    if (!(sid instanceof pkijs.IssuerAndSerialNumber))
        return undefined;
    return certificatesOf(signedData).find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
}
export function toX509(certificate) {
    return new X509Certificate(Buffer.from(certificate.toSchema().toBER()));
}
