import { verify as verifySignatureBytes, X509Certificate } from 'node:crypto';
import type { SignableFile } from '../formats/format.js';
import { messageOf } from '../errors.js';
import { signatureAlgorithmFits, type HashAlgorithm } from './algorithms.js';
import { checkChain, commonName } from './chain.js';
import { toX509 } from './cms.js';
import { checkCountersignature } from './countersignature.js';
import { OID } from './oids.js';
import type { AuthenticodeSignature } from './signature.js';
import { checkTimestampToken } from './timestamp-token.js';

export interface SignatureReport {
  readonly signer: string;
  readonly fileDigest: HashAlgorithm;
  readonly timestamp?: Date;
  /** Why a timestamp that the signature carries does not hold (then `timestamp` is absent). */
  readonly timestampProblem?: string;
  /** Empty when the signature is valid. */
  readonly problems: string[];
  readonly nested: SignatureReport[];
}

/** Trusted roots, for code signing and for timestamping alike. */
export interface Trust {
  readonly anchors: readonly X509Certificate[];
}

/** Checks that the signer certificate's key made the signature over the signed attributes. */
function signatureValueProblem(signature: AuthenticodeSignature): string | undefined {
  const certificate = signature.signerCertificate;
  if (!certificate) return 'the signer certificate is not in the signature';
  const x509 = toX509(certificate);
  const key = x509.publicKey;
  const algorithm = signature.signerInfo.signatureAlgorithm.algorithmId;
  if (!signatureAlgorithmFits(algorithm, key.asymmetricKeyType)) {
    return `the signature algorithm ${algorithm} does not suit the signer's ${key.asymmetricKeyType} key`;
  }
  const valid = verifySignatureBytes(
    signature.digestAlgorithm,
    signature.signedAttributesDer,
    key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key,
    signature.signatureValue,
  );
  return valid ? undefined : `the signature does not verify with the key of "${commonName(x509)}"`;
}

/**
 * The signature's timestamp: an RFC 3161 token, else a legacy countersignature. Either one's problem
 * is reported as such, never as "no timestamp".
 */
async function checkTimestamp(
  signature: AuthenticodeSignature,
  trust: Trust,
): Promise<{ timestamp?: Date; timestampProblem?: string }> {
  try {
    const token = signature.timestampToken;
    if (token) return { timestamp: (await checkTimestampToken(token, signature.signatureValue, trust)).time };
    const [legacy] = signature.unsignedValues(OID.counterSignature);
    if (!legacy) return {};
    const checked = checkCountersignature(
      legacy,
      signature.signatureValue,
      signature.certificates,
      trust.anchors,
    );
    return { timestamp: checked.time };
  } catch (error) {
    return { timestampProblem: messageOf(error) };
  }
}

/** Verifies one signature (and those nested under it) against `file` and `trust`. */
export async function verifySignature(
  signature: AuthenticodeSignature,
  file: SignableFile,
  trust: Trust,
): Promise<SignatureReport> {
  const problems: string[] = [];
  const check = async (step: () => Promise<string | undefined> | string | undefined) => {
    try {
      const problem = await step();
      if (problem) problems.push(problem);
    } catch (error) {
      problems.push(messageOf(error));
    }
  };

  const indirect = signature.indirectData;
  await check(async () => {
    const actual = await file.indirectData(indirect.hash, { asSigned: true });
    return actual.digest.equals(indirect.digest)
      ? undefined
      : 'the file digest does not match the signature (the file was modified)';
  });
  await check(() => file.checkIndirectData(indirect.type, indirect.value));
  await check(() =>
    signature.messageDigestMatches()
      ? undefined
      : 'the messageDigest attribute does not match the signed content',
  );
  await check(() => signatureValueProblem(signature));

  const { timestamp, timestampProblem } = await checkTimestamp(signature, trust);
  // A timestamp that fails invalidates the signature, as it does for Windows.
  if (timestampProblem) problems.push('its timestamp is invalid');

  const certificates = signature.certificates.map(toX509);
  const signerCertificate = signature.signerCertificate;
  const leaf = signerCertificate && toX509(signerCertificate);
  if (leaf)
    await check(() =>
      checkChain(leaf, certificates, trust.anchors, timestamp ?? new Date(), [OID.codeSigning]),
    );

  const nested: SignatureReport[] = [];
  for (const inner of signature.nested) nested.push(await verifySignature(inner, file, trust));

  return {
    signer: leaf ? commonName(leaf) : '(unknown)',
    fileDigest: indirect.hash,
    timestamp,
    timestampProblem,
    problems,
    nested,
  };
}
