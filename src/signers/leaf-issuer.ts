import { X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { commonName } from '../authenticode/chain.js';

let roots: X509Certificate[] | undefined;

/**
 * What is wrong when the chain a signature will carry lacks the issuer of its signing certificate (the
 * first one): no verifier without that intermediate (osslsigncode, Windows offline) can build a path.
 * A leaf issued straight by a public root (Node's list) needs nothing more; above the first
 * intermediate, a missing issuer is usually a root, which verifiers hold themselves.
 */
export function missingLeafIssuer(chain: readonly Buffer[]): string | undefined {
  const [leaf, ...others] = chain.map((der) => new X509Certificate(der));
  if (leaf.checkIssued(leaf) || others.some((c) => leaf.checkIssued(c))) return undefined;
  roots ??= rootCertificates.map((pem) => new X509Certificate(pem));
  if (roots.some((root) => leaf.checkIssued(root))) return undefined;
  return `the signatures carry an incomplete certificate chain: the issuer of "${commonName(leaf)}", "${leaf.issuer.replace(/\n/g, ', ')}", is not in it; give additional-certificates with the intermediate certificates`;
}
