import type { HashAlgorithm } from '../authenticode/algorithms.js';

export type KeyType = 'RSA' | 'EC';

/**
 * A key backend: gives the certificate chain and signs a digest the caller computed.
 * It never sees the data, so local keys and HSM/cloud keys behave the same.
 */
export interface Signer {
  /** DER certificates, the signing (leaf) certificate first, then its issuers. */
  readonly certificates: readonly Buffer[];
  readonly keyType: KeyType;
  /**
   * Signs `digest` (already hashed with `hash`). RSA: PKCS#1 v1.5 signature bytes.
   * EC: a DER ECDSA-Sig-Value (SEQUENCE { r, s }), as CMS carries it.
   */
  signDigest(hash: HashAlgorithm, digest: Buffer, signal?: AbortSignal): Promise<Buffer>;
}
