import { UserError } from '../errors.js';

/** Digest algorithms a signature, a file digest or a timestamp may use. */
export type HashAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['sha1', 'sha256', 'sha384', 'sha512'];

const OIDS: Record<HashAlgorithm, string> = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
};

const LENGTHS: Record<HashAlgorithm, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export function hashOid(hash: HashAlgorithm): string {
  return OIDS[hash];
}

export function hashLength(hash: HashAlgorithm): number {
  return LENGTHS[hash];
}

export function hashFromOid(oid: string): HashAlgorithm | undefined {
  return HASH_ALGORITHMS.find((h) => OIDS[h] === oid);
}

/** Accepts the spellings users type: SHA256, sha-256, sha256. */
export function parseHashAlgorithm(value: string, what: string): HashAlgorithm {
  const normal = value.trim().toLowerCase().replace('-', '');
  const found = HASH_ALGORITHMS.find((h) => h === normal);
  if (!found) {
    throw new UserError(`${what}: unknown digest algorithm "${value}" (use sha256, sha384, sha512 or sha1)`);
  }
  return found;
}

/** Signature algorithm identifiers a SignerInfo may name, by the signing key's type. */
const SIGNATURE_OIDS: Record<string, readonly string[]> = {
  // rsaEncryption, then sha1/sha256/sha384/sha512WithRSAEncryption.
  rsa: [
    '1.2.840.113549.1.1.1',
    '1.2.840.113549.1.1.5',
    '1.2.840.113549.1.1.11',
    '1.2.840.113549.1.1.12',
    '1.2.840.113549.1.1.13',
  ],
  // id-ecPublicKey, then ecdsa-with-SHA1/SHA256/SHA384/SHA512.
  ec: [
    '1.2.840.10045.2.1',
    '1.2.840.10045.4.1',
    '1.2.840.10045.4.3.2',
    '1.2.840.10045.4.3.3',
    '1.2.840.10045.4.3.4',
  ],
};

/** Whether a SignerInfo's signature algorithm suits a key of this type (as OpenSSL requires). */
export function signatureAlgorithmFits(oid: string, keyType: string | undefined): boolean {
  return SIGNATURE_OIDS[keyType ?? '']?.includes(oid) ?? false;
}
