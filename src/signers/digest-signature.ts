import { constants, privateEncrypt, publicDecrypt, type KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { hashLength, type HashAlgorithm } from '../authenticode/algorithms.js';
import { toDer } from '../authenticode/der.js';
import { algorithmIdentifier } from '../authenticode/indirect-data.js';
import * as asn1js from 'asn1js';
import { UserError } from '../errors.js';

/** The curves a code signing key may use, by their JWK (and Key Vault) name. */
export const CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;
export type CurveName = keyof typeof CURVES;
const NAMED_CURVES: Record<string, CurveName> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/** The order's length in bytes: r and s each take this many in an r‖s (IEEE P1363) signature. */
export const SCALAR_BYTES: Record<CurveName, number> = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

/** An r‖s ECDSA signature (as Key Vault and PKCS#11 tokens answer) as CMS carries it; `source` names who answered. */
export function ecdsaDerFromRaw(curve: CurveName, raw: Uint8Array, source: string): Buffer {
  if (raw.length !== 2 * SCALAR_BYTES[curve]) {
    throw new UserError(
      `${source} answered a ${raw.length}-byte ECDSA signature; one on ${curve} has ${2 * SCALAR_BYTES[curve]}`,
    );
  }
  return Buffer.from(CURVES[curve].Signature.fromBytes(raw, 'compact').toBytes('der'));
}

/** The curve of an EC key, when it is one a code signing key may use. */
export function curveOf(key: KeyObject): CurveName | undefined {
  return key.asymmetricKeyType === 'ec'
    ? NAMED_CURVES[key.asymmetricKeyDetails?.namedCurve ?? '']
    : undefined;
}

function checkDigest(hash: HashAlgorithm, digest: Buffer): void {
  if (digest.length !== hashLength(hash)) {
    throw new UserError(`a ${hash} digest has ${hashLength(hash)} bytes, not ${digest.length}`);
  }
}

/** What an RSA key signs for a digest: the DigestInfo naming its algorithm. */
export function rsaDigestInfo(hash: HashAlgorithm, digest: Buffer): Buffer {
  checkDigest(hash, digest);
  return digestInfo(hash, digest);
}

/** PKCS#1 v1.5 over a digest: private-key "encryption" of the DigestInfo is exactly that signature. */
export function rsaSignDigest(key: KeyObject, hash: HashAlgorithm, digest: Buffer): Buffer {
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, rsaDigestInfo(hash, digest));
}

/**
 * ECDSA over a digest, DER-encoded. Node's crypto.sign would hash the digest again, so the curve
 * arithmetic comes from @noble/curves with prehashing off (deterministic k, RFC 6979).
 */
export function ecdsaSignDigest(key: KeyObject, hash: HashAlgorithm, digest: Buffer): Buffer {
  checkDigest(hash, digest);
  const name = curveOf(key);
  const d = name && key.export({ format: 'jwk' }).d;
  if (!name || !d) {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    throw new UserError(`unsupported EC key (curve ${curve}); use P-256, P-384 or P-521`);
  }
  // A digest longer than the curve's order is cut to its leftmost bits, as ECDSA prescribes.
  const signature = CURVES[name].sign(digest, Buffer.from(d, 'base64url'), {
    prehash: false,
    format: 'der',
    lowS: false,
  });
  return Buffer.from(signature);
}

function digestInfo(hash: HashAlgorithm, digest: Buffer): Buffer {
  return toDer(
    new asn1js.Sequence({ value: [algorithmIdentifier(hash), new asn1js.OctetString({ valueHex: digest })] }),
  );
}

/** Checks a signature over a digest (as a signer returns it) with a public key: proves key and certificate match. */
export function verifyDigestSignature(
  key: KeyObject,
  hash: HashAlgorithm,
  digest: Buffer,
  signature: Buffer,
): boolean {
  try {
    if (key.asymmetricKeyType === 'rsa') {
      return publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature).equals(
        digestInfo(hash, digest),
      );
    }
    const name = curveOf(key);
    if (!name) return false;
    const jwk = key.export({ format: 'jwk' });
    const point = Buffer.concat([
      Buffer.from([4]),
      Buffer.from(jwk.x!, 'base64url'),
      Buffer.from(jwk.y!, 'base64url'),
    ]);
    return CURVES[name].verify(signature, digest, point, { prehash: false, format: 'der', lowS: false });
  } catch {
    return false;
  }
}
