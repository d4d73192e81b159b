import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { IndirectData } from '../formats/format.js';
import { hashFromOid, type HashAlgorithm } from './algorithms.js';
import { certificatesOf, signedDataOf, signerCertificateOf } from './cms.js';
import { contentsOf, derLength, toDer } from './der.js';
import { decodeIndirectData } from './indirect-data.js';
import { OID } from './oids.js';

/**
 * One Authenticode signature: a CMS SignedData over an SpcIndirectDataContent with one SignerInfo.
 * Wraps pkijs' SignedData with the Authenticode reading and the unsigned-attribute edits we need.
 */
export class AuthenticodeSignature {
  /** Encoding recomputes pkijs' version field: this is the one the signature keeps. */
  private readonly version: number;

  constructor(readonly signedData: pkijs.SignedData) {
    this.version = signedData.version;
    if (signedData.signerInfos.length !== 1) {
      throw new Error(
        `an Authenticode signature has one signer, this one has ${signedData.signerInfos.length}`,
      );
    }
  }

  /**
   * Reads a signature exactly as written: it must be the DER that it decodes to, byte for byte, so
   * that no length, padding or BER form lets the verified structure differ from the stored bytes.
   */
  static fromDer(der: Uint8Array): AuthenticodeSignature {
    if (derLength(der) !== der.length) throw new Error('its DER length does not match its size');
    const signedData = signedDataOf(der, 'the signature');
    if (signedData.encapContentInfo.eContentType !== OID.spcIndirectData) {
      throw new Error(
        `the signature is not Authenticode (content type ${signedData.encapContentInfo.eContentType})`,
      );
    }
    const signature = new AuthenticodeSignature(signedData);
    // OpenSSL digests with every algorithm listed here: each must be known, the signer's among them.
    const listed = signedData.digestAlgorithms.map((a) => a.algorithmId);
    const signerDigest = signature.signerInfo.digestAlgorithm.algorithmId;
    if (!listed.every((oid) => hashFromOid(oid)) || !listed.includes(signerDigest)) {
      throw new Error(
        `its digest algorithms (${listed.join(', ')}) do not match its signer's (${signerDigest})`,
      );
    }
    if (!signature.toDer().equals(der)) {
      throw new Error('it is not in canonical DER (decoding and encoding it changes its bytes)');
    }
    return signature;
  }

  get signerInfo(): pkijs.SignerInfo {
    return this.signedData.signerInfos[0];
  }

  private get content(): asn1js.AsnType {
    const content = this.signedData.encapContentInfo.eContent;
    if (!content) throw new Error('the signature has no signed content');
    return content;
  }

  get indirectData(): IndirectData {
    return decodeIndirectData(this.content);
  }

  /** What the messageDigest attribute covers: the content octets of SpcIndirectDataContent, not its header. */
  get contentBytes(): Buffer {
    const written = this.content.valueBeforeDecodeView;
    return contentsOf(written.byteLength ? Buffer.from(written) : toDer(this.content));
  }

  get digestAlgorithm(): HashAlgorithm {
    const oid = this.signerInfo.digestAlgorithm.algorithmId;
    const hash = hashFromOid(oid);
    if (!hash) throw new Error(`unsupported signer digest algorithm ${oid}`);
    return hash;
  }

  /** The SignerInfo's signature value: what an RFC 3161 timestamp imprints. */
  get signatureValue(): Buffer {
    return Buffer.from(this.signerInfo.signature.valueBlock.valueHexView);
  }

  /** The signed attributes as written, with their [0] IMPLICIT tag read as SET OF: what was signed. */
  get signedAttributesDer(): Buffer {
    const attributes = this.signerInfo.signedAttrs;
    if (attributes?.encodedValue.byteLength) return Buffer.from(attributes.encodedValue);
    return toDer(new asn1js.Set({ value: (attributes?.attributes ?? []).map((a) => a.toSchema()) }));
  }

  signedAttribute(type: string): asn1js.AsnType | undefined {
    return this.signerInfo.signedAttrs?.attributes.find((a) => a.type === type)?.values[0];
  }

  unsignedValues(type: string): asn1js.AsnType[] {
    return (
      this.signerInfo.unsignedAttrs?.attributes.filter((a) => a.type === type).flatMap((a) => a.values) ?? []
    );
  }

  get certificates(): pkijs.Certificate[] {
    return certificatesOf(this.signedData);
  }

  get signerCertificate(): pkijs.Certificate | undefined {
    return signerCertificateOf(this.signedData);
  }

  /** RFC 3161 TimeStampToken (DER ContentInfo), if the signature is timestamped that way. */
  get timestampToken(): Buffer | undefined {
    const [token] = this.unsignedValues(OID.rfc3161Timestamp);
    return token ? toDer(token) : undefined;
  }

  /** Signatures nested under this one (appended with --append-signature). */
  get nested(): AuthenticodeSignature[] {
    return this.unsignedValues(OID.nestedSignature).map((v) => AuthenticodeSignature.fromDer(toDer(v)));
  }

  /** Adds a value under an unsigned attribute, creating the attribute if needed; signed bytes stay as they were. */
  addUnsignedValue(type: string, value: asn1js.AsnType): void {
    const signer = this.signerInfo;
    signer.unsignedAttrs ??= new pkijs.SignedAndUnsignedAttributes({ type: 1, attributes: [] });
    const existing = signer.unsignedAttrs.attributes.find((a) => a.type === type);
    if (existing) existing.values.push(value);
    else signer.unsignedAttrs.attributes.push(new pkijs.Attribute({ type, values: [value] }));
  }

  toDer(): Buffer {
    // pkijs writes version 3, as CMS does for any content but id-data; Authenticode requires 1, and
    // some verifiers refuse anything else. A signature read from a file keeps the version it had.
    const content = this.signedData.toSchema();
    content.valueBlock.value[0] = new asn1js.Integer({ value: this.version });
    this.signedData.version = this.version; // toSchema() rewrote it
    return toDer(new pkijs.ContentInfo({ contentType: OID.signedData, content }).toSchema());
  }

  messageDigestMatches(): boolean {
    const attribute = this.signedAttribute(OID.messageDigest);
    if (!(attribute instanceof asn1js.OctetString)) return false;
    const expected = createHash(this.digestAlgorithm).update(this.contentBytes).digest();
    return expected.equals(Buffer.from(attribute.valueBlock.valueHexView));
  }
}
