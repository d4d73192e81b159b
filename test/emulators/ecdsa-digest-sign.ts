import type { KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';

/** The NIST curves by node's name, with the name Key Vault gives them. */
const EC_CURVES = {
  prime256v1: { name: 'P-256', curve: p256 },
  secp384r1: { name: 'P-384', curve: p384 },
  secp521r1: { name: 'P-521', curve: p521 },
} as const;

/** Key Vault's name of an EC key's curve, if it is a NIST curve. */
export function curveName(key: KeyObject): string | undefined {
  return EC_CURVES[key.asymmetricKeyDetails?.namedCurve as keyof typeof EC_CURVES]?.name;
}

/**
 * ECDSA over a digest computed elsewhere, answered as r‖s (each as long as the curve's order), as Key
 * Vault answers. node:crypto's sign hashes its input again for EC keys, so the curve arithmetic comes
 * from @noble/curves with prehashing off; ECDSA's own rule takes the digest's leftmost bits.
 */
export function ecdsaSignDigestRaw(key: KeyObject, digest: Buffer): Buffer {
  const entry = EC_CURVES[key.asymmetricKeyDetails?.namedCurve as keyof typeof EC_CURVES];
  const d = key.export({ format: 'jwk' }).d;
  if (!entry || !d) throw new Error(`not a NIST curve private key: ${key.asymmetricKeyDetails?.namedCurve}`);
  return Buffer.from(entry.curve.sign(digest, Buffer.from(d, 'base64url'), { prehash: false, lowS: false }));
}
