import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { hashFromOid } from './algorithms.js';
import { certificatesOf, signedDataOf, signerCertificateOf } from './cms.js';
import { contentsOf, toDer } from './der.js';
import { decodeIndirectData } from './indirect-data.js';
import { OID } from './oids.js';
/**
 * One Authenticode signature: a CMS SignedData over an SpcIndirectDataContent with one SignerInfo.
 * Wraps pkijs' SignedData with the Authenticode reading and the unsigned-attribute edits we need.
 */
export class AuthenticodeSignature {
    signedData;
    constructor(signedData) {
        this.signedData = signedData;
        if (signedData.signerInfos.length !== 1) {
            throw new Error(`an Authenticode signature has one signer, this one has ${signedData.signerInfos.length}`);
        }
    }
    static fromDer(der) {
        const signedData = signedDataOf(der, 'the signature');
        if (signedData.encapContentInfo.eContentType !== OID.spcIndirectData) {
            throw new Error(`the signature is not Authenticode (content type ${signedData.encapContentInfo.eContentType})`);
        }
        return new AuthenticodeSignature(signedData);
    }
    get signerInfo() {
        return this.signedData.signerInfos[0];
    }
    get content() {
        const content = this.signedData.encapContentInfo.eContent;
        if (!content)
            throw new Error('the signature has no signed content');
        return content;
    }
    get indirectData() {
        return decodeIndirectData(this.content);
    }
    /** What the messageDigest attribute covers: the content octets of SpcIndirectDataContent, not its header. */
    get contentBytes() {
        return contentsOf(toDer(this.content));
    }
    get digestAlgorithm() {
        const oid = this.signerInfo.digestAlgorithm.algorithmId;
        const hash = hashFromOid(oid);
        if (!hash)
            throw new Error(`unsupported signer digest algorithm ${oid}`);
        return hash;
    }
    /** The SignerInfo's signature value: what an RFC 3161 timestamp imprints. */
    get signatureValue() {
        return Buffer.from(this.signerInfo.signature.valueBlock.valueHexView);
    }
    /** The DER SET OF signed attributes, as it was signed. */
    get signedAttributesDer() {
        const attributes = this.signerInfo.signedAttrs?.attributes ?? [];
        return toDer(new asn1js.Set({ value: attributes.map((a) => a.toSchema()) }));
    }
    signedAttribute(type) {
        return this.signerInfo.signedAttrs?.attributes.find((a) => a.type === type)?.values[0];
    }
    unsignedValues(type) {
        return (this.signerInfo.unsignedAttrs?.attributes.filter((a) => a.type === type).flatMap((a) => a.values) ?? []);
    }
    get certificates() {
        return certificatesOf(this.signedData);
    }
    get signerCertificate() {
        return signerCertificateOf(this.signedData);
    }
    /** RFC 3161 TimeStampToken (DER ContentInfo), if the signature is timestamped that way. */
    get timestampToken() {
        const [token] = this.unsignedValues(OID.rfc3161Timestamp);
        return token ? toDer(token) : undefined;
    }
    /** Signatures nested under this one (appended with --append-signature). */
    get nested() {
        return this.unsignedValues(OID.nestedSignature).map((v) => AuthenticodeSignature.fromDer(toDer(v)));
    }
    /** Adds a value under an unsigned attribute, creating the attribute if needed; signed bytes stay as they were. */
    addUnsignedValue(type, value) {
        const signer = this.signerInfo;
        signer.unsignedAttrs ??= new pkijs.SignedAndUnsignedAttributes({ type: 1, attributes: [] });
        const existing = signer.unsignedAttrs.attributes.find((a) => a.type === type);
        if (existing)
            existing.values.push(value);
        else
            signer.unsignedAttrs.attributes.push(new pkijs.Attribute({ type, values: [value] }));
    }
    toDer() {
        return toDer(new pkijs.ContentInfo({ contentType: OID.signedData, content: this.signedData.toSchema() }).toSchema());
    }
    messageDigestMatches() {
        const attribute = this.signedAttribute(OID.messageDigest);
        if (!(attribute instanceof asn1js.OctetString))
            return false;
        const expected = createHash(this.digestAlgorithm).update(this.contentBytes).digest();
        return expected.equals(Buffer.from(attribute.valueBlock.valueHexView));
    }
}
