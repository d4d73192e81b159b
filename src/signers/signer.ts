import type { HashAlgorithm } from '../authenticode/algorithms.js';

export type KeyType = 'RSA' | 'EC';

/** One answer of a signer: the signature and the certificate chain of the key that made it. */
export interface DigestSignature {
  /** RSA: PKCS#1 v1.5 signature bytes. EC: a DER ECDSA-Sig-Value (SEQUENCE { r, s }), as CMS carries it. */
  readonly signature: Buffer;
  /** DER certificates, the signing (leaf) certificate first, then its issuers. */
  readonly certificates: readonly Buffer[];
}

/**
 * A key backend: signs a digest the caller computed and says which certificate goes with that
 * signature (a key store such as Artifact Signing changes it during a run). It never sees the data,
 * so local keys and HSM/cloud keys behave the same.
 */
export interface Signer {
  /**
   * Signs `digest` (already hashed with `hash`). `file` names the file it is for: a remote signer may
   * declare it (a signing server's audit log); nothing depends on it.
   */
  signDigest(
    hash: HashAlgorithm,
    digest: Buffer,
    signal?: AbortSignal,
    file?: string,
  ): Promise<DigestSignature>;
}
