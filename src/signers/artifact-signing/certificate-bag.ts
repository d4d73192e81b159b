import { X509Certificate, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { UserError } from '../../errors.js';

/**
 * The certificates of a sign answer's `signingCertificate`: base64 of a MIME base64 text (line breaks
 * and all) of a DER PKCS#7 SignedData whose `certificates` hold the leaf and its issuers, in no fixed order.
 */
function certificatesOfBag(signingCertificate: string): X509Certificate[] {
  try {
    // Node's base64 decoder skips the inner text's line breaks.
    const der = Buffer.from(Buffer.from(signingCertificate, 'base64').toString('latin1'), 'base64');
    const signedData = new pkijs.SignedData({
      schema: pkijs.ContentInfo.fromBER(new Uint8Array(der)).content,
    });
    const certificates = (signedData.certificates ?? [])
      .filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate)
      .map((c) => new X509Certificate(Buffer.from(c.toSchema().toBER())));
    if (certificates.length === 0) throw new Error('it holds no certificate');
    return certificates;
  } catch (error) {
    throw new UserError(
      `Artifact Signing answered with a signing certificate that cannot be read (${(error as Error).message}); the file is unchanged`,
    );
  }
}

/**
 * The chain of the key that made a signature: the certificate whose key verifies it (chosen by
 * content, never by position in the bag), then each issuer in turn, then any others.
 */
function chainOfSignature(
  certificates: readonly X509Certificate[],
  verifies: (key: KeyObject) => boolean,
): Buffer[] {
  const leaf = certificates.find((c) => !c.ca && verifies(c.publicKey));
  if (!leaf) {
    throw new UserError(
      'Artifact Signing answered with a signature that no certificate of its answer verifies; the file is unchanged',
    );
  }
  const chain = [leaf];
  for (let current = leaf; ;) {
    const issuer = certificates.find((c) => !chain.includes(c) && current.checkIssued(c));
    if (!issuer) break;
    chain.push(issuer);
    current = issuer;
  }
  return [...chain, ...certificates.filter((c) => !chain.includes(c))].map((c) => Buffer.from(c.raw));
}

/**
 * The chains of sign answers, each bag decoded once: the service sends the same bag until its
 * certificate rotates, and one chain array per leaf lets the CMS builder parse that chain once too.
 * Every answer's signature still picks, and is checked against, its own leaf.
 */
export class AnswerChains {
  private bag?: { text: string; certificates: X509Certificate[]; chains: Map<string, readonly Buffer[]> };

  /** `complete` checks a new leaf and gives the chain to embed; it runs once per leaf. */
  constructor(private readonly complete: (chain: Buffer[]) => readonly Buffer[]) {}

  of(signingCertificate: string, verifies: (key: KeyObject) => boolean): readonly Buffer[] {
    if (this.bag?.text !== signingCertificate) {
      this.bag = {
        text: signingCertificate,
        certificates: certificatesOfBag(signingCertificate),
        chains: new Map(),
      };
    }
    const chain = chainOfSignature(this.bag.certificates, verifies);
    const leaf = chain[0].toString('base64');
    let complete = this.bag.chains.get(leaf);
    if (!complete) {
      complete = this.complete(chain);
      this.bag.chains.set(leaf, complete);
    }
    return complete;
  }
}
