import * as asn1js from 'asn1js';
export function toDer(value) {
    return Buffer.from(value.toBER(false));
}
/** Parses DER, or throws with `what` named in the message. */
export function fromDer(der, what) {
    const parsed = asn1js.fromBER(der);
    if (parsed.offset === -1)
        throw new Error(`${what} is not valid DER: ${parsed.result.error}`);
    return parsed.result;
}
/** The contents octets of a DER value: what follows its tag and length. */
export function contentsOf(der) {
    const first = der[1];
    const header = first < 0x80 ? 2 : 2 + (first & 0x7f);
    return der.subarray(header);
}
