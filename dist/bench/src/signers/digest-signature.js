import { constants, privateEncrypt, publicDecrypt } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';
import { hashLength } from '../authenticode/algorithms.js';
import { toDer } from '../authenticode/der.js';
import { algorithmIdentifier } from '../authenticode/indirect-data.js';
import * as asn1js from 'asn1js';
import { UserError } from '../errors.js';
/** The curves a code signing key may use, by their JWK name. */
const CURVES = { 'P-256': p256, 'P-384': p384 };
function checkDigest(hash, digest) {
    if (digest.length !== hashLength(hash)) {
        throw new UserError(`a ${hash} digest has ${hashLength(hash)} bytes, not ${digest.length}`);
    }
}
/** PKCS#1 v1.5 over a digest: private-key "encryption" of the DigestInfo is exactly that signature. */
export function rsaSignDigest(key, hash, digest) {
    checkDigest(hash, digest);
    return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, digestInfo(hash, digest));
}
/**
 * ECDSA over a digest, DER-encoded. Node's crypto.sign would hash the digest again, so the curve
 * arithmetic comes from @noble/curves with prehashing off (deterministic k, RFC 6979).
 */
export function ecdsaSignDigest(key, hash, digest) {
    checkDigest(hash, digest);
    const jwk = key.export({ format: 'jwk' });
    const curve = CURVES[jwk.crv];
    if (!curve || !jwk.d)
        throw new UserError(`unsupported EC key (curve ${jwk.crv}); use P-256 or P-384`);
    const signature = curve.sign(digest, Buffer.from(jwk.d, 'base64url'), {
        prehash: false,
        format: 'der',
        lowS: false,
    });
    return Buffer.from(signature);
}
function digestInfo(hash, digest) {
    return toDer(new asn1js.Sequence({ value: [algorithmIdentifier(hash), new asn1js.OctetString({ valueHex: digest })] }));
}
/** Checks a signature over a digest (as a signer returns it) with a public key: proves key and certificate match. */
export function verifyDigestSignature(key, hash, digest, signature) {
    try {
        if (key.asymmetricKeyType === 'rsa') {
            return publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature).equals(digestInfo(hash, digest));
        }
        const jwk = key.export({ format: 'jwk' });
        const curve = CURVES[jwk.crv];
        const point = Buffer.concat([
            Buffer.from([4]),
            Buffer.from(jwk.x, 'base64url'),
            Buffer.from(jwk.y, 'base64url'),
        ]);
        return !!curve && curve.verify(signature, digest, point, { prehash: false, format: 'der', lowS: false });
    }
    catch {
        return false;
    }
}
