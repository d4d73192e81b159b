import { X509Certificate } from 'node:crypto';

/** How a chain that ends at no trusted root is reported: callers can suggest adding that root. */
export const UNTRUSTED_ROOT = 'does not chain to a trusted root';

const MAX_DEPTH = 8;

function validAt(certificate: X509Certificate, at: Date): boolean {
  return new Date(certificate.validFrom) <= at && at <= new Date(certificate.validTo);
}

function issues(issuer: X509Certificate, subject: X509Certificate): boolean {
  return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}

/** A short name for a certificate's subject (or issuer) in messages: its CN, else the whole name. */
export function commonName(certificate: X509Certificate, of: 'subject' | 'issuer' = 'subject'): string {
  const name = certificate[of];
  const cn = name.split('\n').find((part) => part.startsWith('CN='));
  return cn ? cn.slice(3) : name.replace(/\n/g, ', ');
}

const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';

/**
 * A certificate with an extended key usage extension must name one of `purposes` (or any purpose);
 * on a CA it restricts everything below it (Windows' rule, and OpenSSL's purpose check). Without the
 * extension, a certificate is not restricted.
 */
function usageProblem(certificate: X509Certificate, purposes: readonly string[]): string | undefined {
  const usages = certificate.keyUsage as string[] | undefined;
  if (!usages || usages.some((u) => u === ANY_EXTENDED_KEY_USAGE || purposes.includes(u))) return undefined;
  return `the certificate "${commonName(certificate)}" does not allow this use (extended key usage ${purposes.join(' or ')} missing)`;
}

/**
 * Checks that `leaf` chains through `intermediates` to one of `anchors`, every certificate valid at `at`,
 * every issuer a CA, and that the leaf and every certificate above it allow one of `purposes` (extended
 * key usage OIDs). Returns the problem, or undefined when the chain holds.
 */
export function checkChain(
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  at: Date,
  purposes: readonly string[],
): string | undefined {
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const usage = usageProblem(current, purposes);
    if (usage) return usage;
    if (!validAt(current, at)) {
      return `the certificate "${commonName(current)}" is not valid at ${at.toISOString()} (valid ${current.validFrom} to ${current.validTo})`;
    }
    if (anchors.some((anchor) => anchor.fingerprint256 === current.fingerprint256)) return undefined;
    const anchor = anchors.find((a) => issues(a, current));
    if (anchor) {
      if (!validAt(anchor, at)) return `the root "${commonName(anchor)}" is not valid at ${at.toISOString()}`;
      return usageProblem(anchor, purposes);
    }
    const issuer = intermediates.find((c) => c !== current && c.ca && issues(c, current));
    if (!issuer)
      return `the certificate "${commonName(current)}" ${UNTRUSTED_ROOT}: its issuer "${commonName(current, 'issuer')}" is not trusted here`;
    current = issuer;
  }
  return `the certificate chain of "${commonName(leaf)}" is longer than ${MAX_DEPTH}`;
}
