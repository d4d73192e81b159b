import { verify as verifySignatureBytes, X509Certificate } from 'node:crypto';
import type { SignableFile } from '../formats/format.js';
import { messageOf } from '../errors.js';
import type { HashAlgorithm } from './algorithms.js';
import { checkChain, commonName } from './chain.js';
import { toX509 } from './cms.js';
import { OID } from './oids.js';
import type { AuthenticodeSignature } from './signature.js';
import { checkTimestampToken } from './timestamp-token.js';

export interface SignatureReport {
  readonly signer: string;
  readonly fileDigest: HashAlgorithm;
  readonly timestamp?: Date;
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
  const valid = verifySignatureBytes(
    signature.digestAlgorithm,
    signature.signedAttributesDer,
    key.asymmetricKeyType === 'ec' ? { key, dsaEncoding: 'der' } : key,
    signature.signatureValue,
  );
  return valid ? undefined : `the signature does not verify with the key of "${commonName(x509)}"`;
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
    const actual = await file.indirectData(indirect.hash);
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

  let timestamp: Date | undefined;
  const token = signature.timestampToken;
  if (token) {
    await check(async () => {
      const result = await checkTimestampToken(token, signature.signatureValue, trust);
      timestamp = result.time;
      return undefined;
    });
  }

  const certificates = signature.certificates.map(toX509);
  const signerCertificate = signature.signerCertificate;
  const leaf = signerCertificate && toX509(signerCertificate);
  if (leaf)
    await check(() =>
      checkChain(leaf, certificates, trust.anchors, timestamp ?? new Date(), OID.codeSigning),
    );

  const nested: SignatureReport[] = [];
  for (const inner of signature.nested) nested.push(await verifySignature(inner, file, trust));

  return {
    signer: leaf ? commonName(leaf) : '(unknown)',
    fileDigest: indirect.hash,
    timestamp,
    problems,
    nested,
  };
}
