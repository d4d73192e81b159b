import { createHash, type X509Certificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { hashFromOid, type HashAlgorithm } from './algorithms.js';
import { checkChain, commonName } from './chain.js';
import { certificatesOf, signedDataIn, signedDataOf, signerCertificateOf, toX509 } from './cms.js';

const TST_INFO = '1.2.840.113549.1.9.16.1.4';
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
const EXTENDED_KEY_USAGE = '2.5.29.37';

export interface TimestampToken {
  readonly signedData: pkijs.SignedData;
  readonly info: pkijs.TSTInfo;
  readonly time: Date;
  readonly hash: HashAlgorithm;
  readonly imprint: Buffer;
}

/** Reads an RFC 3161 TimeStampToken: a SignedData over a TSTInfo. */
export function parseTimestampToken(der: Uint8Array): TimestampToken {
  return readTimestampToken(signedDataOf(der, 'the timestamp token'));
}

/** The same, from the token's ContentInfo as a TimeStampResp decoded it (no second parse). */
export function timestampTokenIn(contentInfo: pkijs.ContentInfo): TimestampToken {
  return readTimestampToken(signedDataIn(contentInfo, 'the timestamp token'));
}

function readTimestampToken(signedData: pkijs.SignedData): TimestampToken {
  const { eContentType, eContent } = signedData.encapContentInfo;
  if (eContentType !== TST_INFO || !(eContent instanceof asn1js.OctetString)) {
    throw new Error(`the timestamp token does not hold a TSTInfo (content type ${eContentType})`);
  }
  const info = pkijs.TSTInfo.fromBER(eContent.getValue());
  const hash = hashFromOid(info.messageImprint.hashAlgorithm.algorithmId);
  if (!hash)
    throw new Error(
      `the timestamp uses an unsupported digest (${info.messageImprint.hashAlgorithm.algorithmId})`,
    );
  return {
    signedData,
    info,
    time: info.genTime,
    hash,
    imprint: Buffer.from(info.messageImprint.hashedMessage.valueBlock.valueHexView),
  };
}

/** Checks the token's own signature over `stamped` (not yet whom its signer chains to). */
export async function timestampSignatureHolds(token: TimestampToken, stamped: Buffer): Promise<boolean> {
  const data = new Uint8Array(stamped).buffer;
  return token.signedData.verify({ signer: 0, checkChain: false, data }).catch(() => false);
}

/**
 * The certificate that signed the token. RFC 3161 §2.3: a TSA certificate names time stamping as its
 * extended key usage; none is not enough. Read from pkijs' parse, which the caller has already paid.
 */
export function timestampSigner(token: TimestampToken): pkijs.Certificate {
  const signer = signerCertificateOf(token.signedData);
  if (!signer) throw new Error('the timestamp carries no signer certificate');
  const usage = signer.extensions?.find((e) => e.extnID === EXTENDED_KEY_USAGE)?.parsedValue;
  if (!(usage instanceof pkijs.ExtKeyUsage) || !usage.keyPurposes.includes(TIME_STAMPING)) {
    throw new Error(
      `the timestamp signer "${commonName(toX509(signer))}" is not a time-stamping certificate`,
    );
  }
  return signer;
}

/**
 * Checks that a token timestamps `signatureValue`: its imprint, its signature, and — given trusted
 * roots — that its signer is a time-stamping certificate that chains to one of them at the stamped time.
 */
export async function checkTimestampToken(
  der: Uint8Array,
  signatureValue: Buffer,
  trust: { readonly anchors?: readonly X509Certificate[] } = {},
): Promise<{ time: Date; signer: string }> {
  const token = parseTimestampToken(der);
  if (!createHash(token.hash).update(signatureValue).digest().equals(token.imprint)) {
    throw new Error('the timestamp is for other data (message imprint mismatch)');
  }
  if (!(await timestampSignatureHolds(token, signatureValue)))
    throw new Error('the timestamp signature does not verify');
  const signer = toX509(timestampSigner(token));
  if (trust.anchors) {
    const problem = checkChain(
      signer,
      certificatesOf(token.signedData).map(toX509),
      trust.anchors,
      token.time,
      [TIME_STAMPING],
    );
    if (problem) throw new Error(`timestamp: ${problem}`);
  }
  return { time: token.time, signer: commonName(signer) };
}
