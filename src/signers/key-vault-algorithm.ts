import type { X509Certificate } from 'node:crypto';
import type { SignatureAlgorithm } from '@azure/keyvault-keys';
import type { HashAlgorithm } from '../authenticode/algorithms.js';
import { UserError } from '../errors.js';
import { curveOf, ecdsaDerFromRaw, type CurveName } from './digest-signature.js';
import type { KeyType } from './signer.js';

/** How Key Vault signs with one certificate's key: the algorithm it is asked for, and what it answers. */
export interface KeyVaultScheme {
  readonly keyType: KeyType;
  /** The hash of the start-up probe: the key's own algorithm's. */
  readonly probeHash: HashAlgorithm;
  /** Key Vault's algorithm and the value it signs for a digest the file was hashed with. */
  request(hash: HashAlgorithm, digest: Buffer): { algorithm: SignatureAlgorithm; value: Buffer };
  /** Key Vault's answer as CMS carries it. */
  signature(answer: Uint8Array): Buffer;
}

const RSA_ALGORITHMS: Partial<Record<HashAlgorithm, SignatureAlgorithm>> = {
  sha256: 'RS256',
  sha384: 'RS384',
  sha512: 'RS512',
};

/** Key Vault binds each ECDSA algorithm to one curve and requires its hash's length of digest. */
const EC_ALGORITHMS: Record<
  CurveName,
  { algorithm: SignatureAlgorithm; hash: HashAlgorithm; bytes: number }
> = {
  'P-256': { algorithm: 'ES256', hash: 'sha256', bytes: 32 },
  'P-384': { algorithm: 'ES384', hash: 'sha384', bytes: 48 },
  'P-521': { algorithm: 'ES512', hash: 'sha512', bytes: 64 },
};

function refuseSha1(hash: HashAlgorithm): void {
  if (hash === 'sha1')
    throw new UserError('Key Vault cannot sign a sha1 digest; use sha256, sha384 or sha512');
}

/**
 * `digest` in the length Key Vault requires, yielding the same ECDSA signature. ECDSA signs a hash as
 * the integer of its leftmost bits, as many as the curve's order has: P-256's and P-384's orders have
 * 256 and 384 bits, so a longer file digest cut to 32 or 48 bytes is exactly what a verifier uses;
 * P-521's 521 bits exceed every digest, which stays whole. A shorter digest counts as its integer,
 * which leading zero bytes do not change.
 */
function fitted(digest: Buffer, bytes: number): Buffer {
  if (digest.length >= bytes) return digest.subarray(0, bytes);
  return Buffer.concat([Buffer.alloc(bytes - digest.length), digest]);
}

function ecScheme(curve: CurveName): KeyVaultScheme {
  const { algorithm, hash: probeHash, bytes } = EC_ALGORITHMS[curve];
  return {
    keyType: 'EC',
    probeHash,
    request(hash, digest) {
      refuseSha1(hash);
      return { algorithm, value: fitted(digest, bytes) };
    },
    // Key Vault answers r‖s, each as long as the curve's order; CMS carries DER.
    signature: (answer) => ecdsaDerFromRaw(curve, answer, 'Key Vault'),
  };
}

const RSA_SCHEME: KeyVaultScheme = {
  keyType: 'RSA',
  probeHash: 'sha256',
  request(hash, digest) {
    refuseSha1(hash);
    return { algorithm: RSA_ALGORITHMS[hash]!, value: digest };
  },
  signature: (answer) => Buffer.from(answer),
};

/** The scheme for `certificate`'s key; a key Key Vault cannot sign code with is refused before any file. */
export function keyVaultScheme(certificate: X509Certificate, name: string): KeyVaultScheme {
  const key = certificate.publicKey;
  if (key.asymmetricKeyType === 'rsa') return RSA_SCHEME;
  const curve = curveOf(key);
  if (curve) return ecScheme(curve);
  const what =
    key.asymmetricKeyType === 'ec'
      ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve}`
      : `a ${key.asymmetricKeyType} key`;
  throw new UserError(
    `certificate ${name} has ${what}; vaultsign signs with RSA keys or EC keys on P-256, P-384 or P-521`,
  );
}
