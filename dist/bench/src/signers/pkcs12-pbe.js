import { createDecipheriv, createHash } from 'node:crypto';
import { UserError } from '../errors.js';
/** pbeWithSHAAnd3-KeyTripleDES-CBC: the "TripleDES-SHA1" of older Windows PFX exports. pkijs handles only PBES2. */
export const PBE_SHA1_3DES = '1.2.840.113549.1.12.1.3';
const PKCS12_PBE_PREFIX = '1.2.840.113549.1.12.1.';
export function isPkcs12Pbe(oid) {
    return oid.startsWith(PKCS12_PBE_PREFIX);
}
/** PKCS#12 passwords are BMPString with a terminating NUL for this key derivation. */
function bmpPassword(password) {
    return Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
}
function repeatTo(source, block) {
    if (source.length === 0)
        return source;
    const length = block * Math.ceil(source.length / block);
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i += source.length)
        source.copy(out, i);
    return out;
}
/** RFC 7292 appendix B.2 key derivation with SHA-1 (purpose: 1 key, 2 IV). */
function deriveSha1(password, salt, iterations, purpose, length) {
    const v = 64;
    const u = 20;
    const input = Buffer.concat([repeatTo(salt, v), repeatTo(password, v)]);
    const output = [];
    for (let produced = 0; produced < length; produced += u) {
        let a = createHash('sha1').update(Buffer.alloc(v, purpose)).update(input).digest();
        for (let i = 1; i < iterations; i++)
            a = createHash('sha1').update(a).digest();
        output.push(a);
        const b = repeatTo(a, v);
        for (let block = 0; block < input.length; block += v) {
            // I_j = (I_j + B + 1) mod 2^(8v), big-endian
            let carry = 1;
            for (let k = v - 1; k >= 0; k--) {
                const sum = input[block + k] + b[k] + carry;
                input[block + k] = sum & 0xff;
                carry = sum >> 8;
            }
        }
    }
    return Buffer.concat(output).subarray(0, length);
}
export function decryptPkcs12Pbe(oid, salt, iterations, password, ciphertext, file) {
    if (oid !== PBE_SHA1_3DES) {
        throw new UserError(`${file}: the PFX is encrypted with a legacy algorithm (${oid}, e.g. RC2) that vaultsign does not support; ` +
            're-export it with AES (OpenSSL 3: openssl pkcs12 -export …; Windows: Export-PfxCertificate -CryptoAlgorithmOption AES256_SHA256)');
    }
    const bmp = bmpPassword(password);
    const key = deriveSha1(bmp, salt, iterations, 1, 24);
    const iv = deriveSha1(bmp, salt, iterations, 2, 8);
    const decipher = createDecipheriv('des-ede3-cbc', key, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}
