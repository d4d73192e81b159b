import { X509Certificate } from 'node:crypto';
import { commonName } from '../authenticode/chain.js';
import { OID } from '../authenticode/oids.js';
import { UserError } from '../errors.js';
/** A signing certificate must be valid now and allow code signing: say so before any file is touched. */
export function checkSigningCertificate(der, source, now = new Date()) {
    const certificate = new X509Certificate(der);
    const name = commonName(certificate);
    if (now < new Date(certificate.validFrom)) {
        throw new UserError(`${source}: the certificate "${name}" is not valid before ${certificate.validFrom}`);
    }
    if (now > new Date(certificate.validTo)) {
        throw new UserError(`${source}: the certificate "${name}" expired on ${certificate.validTo}; renew it`);
    }
    const usages = certificate.keyUsage;
    if (usages && !usages.includes(OID.codeSigning) && !usages.includes('2.5.29.37.0')) {
        throw new UserError(`${source}: the certificate "${name}" does not allow code signing (its extended key usages are ${usages.join(', ')})`);
    }
    return certificate;
}
/** SHA-1 thumbprint as Windows shows it: upper-case hex without separators. */
export function thumbprint(certificate) {
    return certificate.fingerprint.replace(/:/g, '');
}
