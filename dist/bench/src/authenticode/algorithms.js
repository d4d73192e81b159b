import { UserError } from '../errors.js';
export const HASH_ALGORITHMS = ['sha1', 'sha256', 'sha384', 'sha512'];
const OIDS = {
    sha1: '1.3.14.3.2.26',
    sha256: '2.16.840.1.101.3.4.2.1',
    sha384: '2.16.840.1.101.3.4.2.2',
    sha512: '2.16.840.1.101.3.4.2.3',
};
const LENGTHS = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };
export function hashOid(hash) {
    return OIDS[hash];
}
export function hashLength(hash) {
    return LENGTHS[hash];
}
export function hashFromOid(oid) {
    return HASH_ALGORITHMS.find((h) => OIDS[h] === oid);
}
/** Accepts the spellings users type: SHA256, sha-256, sha256. */
export function parseHashAlgorithm(value, what) {
    const normal = value.trim().toLowerCase().replace('-', '');
    const found = HASH_ALGORITHMS.find((h) => h === normal);
    if (!found) {
        throw new UserError(`${what}: unknown digest algorithm "${value}" (use sha256, sha384, sha512 or sha1)`);
    }
    return found;
}
