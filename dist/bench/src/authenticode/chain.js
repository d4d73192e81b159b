const MAX_DEPTH = 8;
function validAt(certificate, at) {
    return new Date(certificate.validFrom) <= at && at <= new Date(certificate.validTo);
}
function issues(issuer, subject) {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
}
/** A short name for a certificate in messages: its CN, else its whole subject. */
export function commonName(certificate) {
    const cn = certificate.subject.split('\n').find((part) => part.startsWith('CN='));
    return cn ? cn.slice(3) : certificate.subject.replace(/\n/g, ', ');
}
/**
 * Checks that `leaf` chains through `intermediates` to one of `anchors`, every certificate valid at `at`
 * and every issuer a CA, and that the leaf allows `purpose` (an extended key usage OID).
 * Returns the problem, or undefined when the chain holds.
 */
export function checkChain(leaf, intermediates, anchors, at, purpose) {
    const usages = leaf.keyUsage;
    if (usages && !usages.includes(purpose) && !usages.includes('2.5.29.37.0')) {
        return `the certificate "${commonName(leaf)}" does not allow this use (extended key usage ${purpose} missing)`;
    }
    let current = leaf;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
        if (!validAt(current, at)) {
            return `the certificate "${commonName(current)}" is not valid at ${at.toISOString()} (valid ${current.validFrom} to ${current.validTo})`;
        }
        if (anchors.some((anchor) => anchor.fingerprint256 === current.fingerprint256))
            return undefined;
        const anchor = anchors.find((a) => issues(a, current));
        if (anchor)
            return validAt(anchor, at)
                ? undefined
                : `the root "${commonName(anchor)}" is not valid at ${at.toISOString()}`;
        const issuer = intermediates.find((c) => c !== current && c.ca && issues(c, current));
        if (!issuer)
            return `the certificate "${commonName(current)}" does not chain to a trusted root`;
        current = issuer;
    }
    return `the certificate chain of "${commonName(leaf)}" is longer than ${MAX_DEPTH}`;
}
