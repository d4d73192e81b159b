import { constants, privateEncrypt, type KeyObject } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { hashLength, type HashAlgorithm } from '../authenticode/algorithms.js';
import { toDer } from '../authenticode/der.js';
import { algorithmIdentifier } from '../authenticode/indirect-data.js';
import * as asn1js from 'asn1js';
import { UserError } from '../errors.js';

/** The curves a code signing key may use, by their JWK name. */
const CURVES = { 'P-256': p256, 'P-384': p384 } as const;

function checkDigest(hash: HashAlgorithm, digest: Buffer): void {
  if (digest.length !== hashLength(hash)) {
    throw new UserError(`a ${hash} digest has ${hashLength(hash)} bytes, not ${digest.length}`);
  }
}

/** PKCS#1 v1.5 over a digest: private-key "encryption" of the DigestInfo is exactly that signature. */
export function rsaSignDigest(key: KeyObject, hash: HashAlgorithm, digest: Buffer): Buffer {
  checkDigest(hash, digest);
  const digestInfo = new asn1js.Sequence({
    value: [algorithmIdentifier(hash), new asn1js.OctetString({ valueHex: digest })],
  });
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, toDer(digestInfo));
}

/**
 * ECDSA over a digest, DER-encoded. Node's crypto.sign would hash the digest again, so the curve
 * arithmetic comes from @noble/curves with prehashing off (deterministic k, RFC 6979).
 */
export function ecdsaSignDigest(key: KeyObject, hash: HashAlgorithm, digest: Buffer): Buffer {
  checkDigest(hash, digest);
  const jwk = key.export({ format: 'jwk' });
  const curve = CURVES[jwk.crv as keyof typeof CURVES];
  if (!curve || !jwk.d) throw new UserError(`unsupported EC key (curve ${jwk.crv}); use P-256 or P-384`);
  const signature = curve.sign(digest, Buffer.from(jwk.d, 'base64url'), {
    prehash: false,
    format: 'der',
    lowS: false,
  });
  return Buffer.from(signature);
}
