import { createHash, verify, type X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { hashFromOid, signatureAlgorithmFits } from './algorithms.js';
import { checkChain, commonName } from './chain.js';
import { toX509 } from './cms.js';
import { OID } from './oids.js';

/**
 * A legacy Authenticode timestamp: a PKCS#9 countersignature (a SignerInfo in the unsigned attribute
 * 1.2.840.113549.1.9.6) whose messageDigest covers the primary SignerInfo's signature value, whose
 * signingTime is the time stamped, and whose certificate sits among the primary signature's.
 * Often RSA with SHA-1 (older Microsoft-signed files). Returns the time and signer, or throws why not.
 */
export function checkCountersignature(
  value: asn1js.AsnType,
  signatureValue: Buffer,
  certificates: readonly pkijs.Certificate[],
  anchors: readonly X509Certificate[],
): { time: Date; signer: string } {
  const info = new pkijs.SignerInfo({ schema: value });
  const hash = hashFromOid(info.digestAlgorithm.algorithmId);
  if (!hash) throw new Error(`it uses an unsupported digest (${info.digestAlgorithm.algorithmId})`);
  const sid = info.sid;
  const certificate =
    sid instanceof pkijs.IssuerAndSerialNumber
      ? certificates.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber))
      : undefined;
  if (!certificate) throw new Error('its signer certificate is not in the signature');
  const attributes = info.signedAttrs;
  if (!attributes?.encodedValue.byteLength) throw new Error('it has no signed attributes');
  const attribute = (type: string) => attributes.attributes.find((a) => a.type === type)?.values[0];

  const contentType = attribute(OID.contentType);
  if (
    contentType &&
    !(contentType instanceof asn1js.ObjectIdentifier && contentType.getValue() === OID.data)
  ) {
    throw new Error('its content type is not data');
  }
  const digest = attribute(OID.messageDigest);
  const expected = createHash(hash).update(signatureValue).digest();
  if (
    !(digest instanceof asn1js.OctetString) ||
    !expected.equals(Buffer.from(digest.valueBlock.valueHexView))
  ) {
    throw new Error('it is for other data (messageDigest mismatch)');
  }
  const signingTime = attribute(OID.signingTime);
  if (!(signingTime instanceof asn1js.UTCTime || signingTime instanceof asn1js.GeneralizedTime)) {
    throw new Error('it has no signing time');
  }
  const time = signingTime.toDate();

  const x509 = toX509(certificate);
  const key = x509.publicKey;
  if (!signatureAlgorithmFits(info.signatureAlgorithm.algorithmId, key.asymmetricKeyType)) {
    throw new Error(`its signature algorithm ${info.signatureAlgorithm.algorithmId} does not suit its key`);
  }
  const signed = Buffer.from(attributes.encodedValue);
  const signatureBytes = Buffer.from(info.signature.valueBlock.valueHexView);
  const holds = verify(
    hash,
    signed,
    key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key,
    signatureBytes,
  );
  if (!holds) throw new Error(`its signature does not verify with the key of "${commonName(x509)}"`);
  const purposes: string[] = [OID.timeStamping, OID.microsoftTimeStamping];
  if (!x509.keyUsage?.some((usage) => purposes.includes(usage))) {
    throw new Error(`its signer "${commonName(x509)}" is not a time-stamping certificate`);
  }
  const problem = checkChain(x509, certificates.map(toX509), anchors, time, purposes);
  if (problem) throw new Error(problem);
  return { time, signer: commonName(x509) };
}
