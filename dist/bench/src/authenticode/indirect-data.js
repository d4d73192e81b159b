import * as asn1js from 'asn1js';
import { hashFromOid, hashOid } from './algorithms.js';
export function algorithmIdentifier(hash) {
    return new asn1js.Sequence({
        value: [new asn1js.ObjectIdentifier({ value: hashOid(hash) }), new asn1js.Null()],
    });
}
/** SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue, messageDigest DigestInfo }. */
export function encodeIndirectData(data) {
    return new asn1js.Sequence({
        value: [
            new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: data.type }), data.value] }),
            new asn1js.Sequence({
                value: [algorithmIdentifier(data.hash), new asn1js.OctetString({ valueHex: data.digest })],
            }),
        ],
    });
}
export function decodeIndirectData(content) {
    const fail = (why) => {
        throw new Error(`the signed content is not an SpcIndirectDataContent: ${why}`);
    };
    if (!(content instanceof asn1js.Sequence))
        fail('not a SEQUENCE');
    const [data, digestInfo] = content.valueBlock.value;
    if (!(data instanceof asn1js.Sequence) || !(digestInfo instanceof asn1js.Sequence))
        fail('missing parts');
    const [type, value] = data.valueBlock.value;
    const [algorithm, digest] = digestInfo.valueBlock.value;
    if (!(type instanceof asn1js.ObjectIdentifier))
        fail('no data type');
    if (!(algorithm instanceof asn1js.Sequence) || !(digest instanceof asn1js.OctetString))
        fail('bad DigestInfo');
    const oid = algorithm.valueBlock.value[0];
    const hash = oid instanceof asn1js.ObjectIdentifier ? hashFromOid(oid.valueBlock.toString()) : undefined;
    if (!hash)
        return fail('unsupported digest algorithm');
    return {
        type: type.valueBlock.toString(),
        value,
        hash,
        digest: Buffer.from(digest.valueBlock.valueHexView),
    };
}
