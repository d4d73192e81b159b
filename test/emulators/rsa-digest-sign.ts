import { constants, createHash, privateEncrypt, randomBytes, type KeyObject } from 'node:crypto';

export type DigestHash = 'sha256' | 'sha384' | 'sha512';

/** DER DigestInfo up to the digest's own bytes (RFC 8017 §9.2, note 1). */
const DIGEST_INFO_PREFIX: Record<DigestHash, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
};

/**
 * RSA signatures over a digest computed elsewhere, with node:crypto alone: node's `sign` always hashes
 * its input, so the padding is applied here and the key only does the raw private-key operation.
 */
export function pkcs1SignDigest(key: KeyObject, hash: DigestHash, digest: Buffer): Buffer {
  const digestInfo = Buffer.concat([Buffer.from(DIGEST_INFO_PREFIX[hash], 'hex'), digest]);
  return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
}

/** RSASSA-PSS with MGF1 over the same hash and a salt as long as the digest (RFC 8017 §9.1.1). */
export function pssSignDigest(key: KeyObject, hash: DigestHash, digest: Buffer): Buffer {
  const modulusBits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  const emBits = modulusBits - 1;
  const emLength = Math.ceil(emBits / 8);
  const salt = randomBytes(digest.length);
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
  const db = Buffer.alloc(emLength - h.length - 1);
  db[db.length - salt.length - 1] = 1;
  salt.copy(db, db.length - salt.length);
  for (let counter = 0, offset = 0; offset < db.length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    for (const byte of createHash(hash).update(h).update(c).digest()) {
      if (offset < db.length) db[offset++] ^= byte;
    }
  }
  db[0] &= 0xff >> (8 * emLength - emBits);
  const encoded = Buffer.concat([db, h, Buffer.from([0xbc])]);
  const block = Buffer.concat([Buffer.alloc(Math.ceil(modulusBits / 8) - encoded.length), encoded]);
  return privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, block);
}
