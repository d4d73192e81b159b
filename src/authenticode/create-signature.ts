import { createHash, verify, X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { IndirectData } from '../formats/format.js';
import type { Signer } from '../signers/signer.js';
import { hashOid, type HashAlgorithm } from './algorithms.js';
import { contentsOf, encoded, toDer } from './der.js';
import { encodeIndirectData } from './indirect-data.js';
import { UserError } from '../errors.js';
import { ECDSA_OIDS, OID } from './oids.js';
import { AuthenticodeSignature } from './signature.js';

export interface SignatureText {
  /** SpcSpOpusInfo programName: what Windows shows as the program's name in the UAC prompt. */
  readonly description?: string;
  /** SpcSpOpusInfo moreInfo URL. */
  readonly descriptionUrl?: string;
}

const explicit = (tagNumber: number, value: asn1js.AsnType) =>
  new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value: [value] });
const implicitPrimitive = (tagNumber: number, bytes: Uint8Array) =>
  new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber }, valueHex: bytes });

/** SpcSpOpusInfo { programName [0] SpcString (unicode), moreInfo [1] SpcLink (url) }. */
function opusInfo({ description, descriptionUrl }: SignatureText): asn1js.Sequence {
  const value: asn1js.AsnType[] = [];
  if (description)
    value.push(explicit(0, implicitPrimitive(0, Buffer.from(description, 'utf16le').swap16())));
  if (descriptionUrl)
    value.push(explicit(1, implicitPrimitive(0, Buffer.from(ia5Url(descriptionUrl), 'ascii'))));
  return new asn1js.Sequence({ value });
}

/**
 * SpcLink's url is an IA5String (ASCII): a URL with other characters is written the way browsers send
 * it (UTF-8 percent-encoded, international host names in punycode), never cut to bytes.
 */
function ia5Url(url: string): string {
  if (/^[\x20-\x7e]*$/.test(url)) return url;
  try {
    return new URL(url).href;
  } catch {
    throw new UserError(`description-url: "${url}" is not a URL that can be written in ASCII`);
  }
}

/** An attribute encoded once: it is sorted, signed and written by its DER. */
class EncodedAttribute extends pkijs.Attribute {
  readonly der: Buffer;

  constructor(attribute: pkijs.Attribute) {
    super({ type: attribute.type, values: attribute.values });
    this.der = toDer(attribute.toSchema());
  }

  override toSchema(): asn1js.Sequence {
    return encoded(this.der) as asn1js.Sequence;
  }
}

/** DER requires a SET OF in the order of its members' encodings. */
function sortedForDer(attributes: EncodedAttribute[]): EncodedAttribute[] {
  return attributes.sort((x, y) => Buffer.compare(x.der, y.der));
}

/** The attributes that are the same for every file of a run, encoded once. */
const contentTypeAttribute = new EncodedAttribute(
  new pkijs.Attribute({
    type: OID.contentType,
    values: [new asn1js.ObjectIdentifier({ value: OID.spcIndirectData })],
  }),
);
const statementTypeAttribute = new EncodedAttribute(
  new pkijs.Attribute({
    type: OID.spcStatementType,
    values: [
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.individualCodeSigning })] }),
    ],
  }),
);
const opusInfoAttributes = new Map<string, EncodedAttribute>();
function opusInfoAttribute(text: SignatureText): EncodedAttribute {
  const key = JSON.stringify([text.description, text.descriptionUrl]);
  let attribute = opusInfoAttributes.get(key);
  if (!attribute) {
    attribute = new EncodedAttribute(
      new pkijs.Attribute({ type: OID.spcSpOpusInfo, values: [opusInfo(text)] }),
    );
    opusInfoAttributes.set(key, attribute);
  }
  return attribute;
}

function signatureAlgorithm(publicKey: KeyObject, hash: HashAlgorithm): pkijs.AlgorithmIdentifier {
  return publicKey.asymmetricKeyType === 'rsa'
    ? new pkijs.AlgorithmIdentifier({ algorithmId: OID.rsaEncryption, algorithmParams: new asn1js.Null() })
    : new pkijs.AlgorithmIdentifier({ algorithmId: ECDSA_OIDS[hash] });
}

/**
 * A certificate embedded as its DER. pkijs would decode and re-encode every certificate of the chain
 * for every file: most of the CPU time of a small file's signature.
 */
class EncodedCertificate extends pkijs.Certificate {
  constructor(private readonly der: Uint8Array) {
    super({ schema: asn1js.fromBER(der).result });
  }

  // Callers only encode the schema (toBER).
  override toSchema(): asn1js.Sequence {
    return encoded(this.der) as asn1js.Sequence;
  }
}

/** The signer's issuer and serial number as their DER: pkijs would rebuild the issuer's name for every file. */
class EncodedSignerId extends pkijs.IssuerAndSerialNumber {
  private readonly der: Buffer;

  constructor(certificate: pkijs.Certificate) {
    super({ issuer: certificate.issuer, serialNumber: certificate.serialNumber });
    this.der = toDer(
      new pkijs.IssuerAndSerialNumber({ issuer: this.issuer, serialNumber: this.serialNumber }).toSchema(),
    );
  }

  override toSchema(): asn1js.Sequence {
    return encoded(this.der) as asn1js.Sequence;
  }
}

interface ParsedChain {
  readonly certificates: pkijs.Certificate[];
  readonly leaf: X509Certificate;
  readonly signerId: pkijs.IssuerAndSerialNumber;
}

/**
 * Parsed once per chain a signer answers with: a key store with one certificate per run answers with
 * the same chain every time; one whose certificate comes with each signature, with a new one each time.
 */
const chains = new WeakMap<readonly Buffer[], ParsedChain>();
function parsedChain(der: readonly Buffer[]): ParsedChain {
  let chain = chains.get(der);
  if (!chain) {
    if (der.length === 0) throw new UserError('the signer returned a signature without its certificate');
    const certificates = der.map((c) => new EncodedCertificate(new Uint8Array(c)));
    chain = {
      certificates,
      leaf: new X509Certificate(der[0]),
      signerId: new EncodedSignerId(certificates[0]),
    };
    chains.set(der, chain);
  }
  return chain;
}

export interface CreatedSignature {
  readonly signature: AuthenticodeSignature;
  /** The certificate of the key that signed: its signature was checked against it. */
  readonly leaf: X509Certificate;
}

/** Builds and signs (through `signer`, on a digest) the Authenticode signature for `indirect`. */
export async function createSignature(
  indirect: IndirectData,
  signer: Signer,
  text: SignatureText = {},
  signal?: AbortSignal,
  /** The file's name, passed on to the signer. */
  file?: string,
): Promise<CreatedSignature> {
  const hash = indirect.hash;
  const content = encodeIndirectData(indirect);
  const digestAlgorithm = () =>
    new pkijs.AlgorithmIdentifier({ algorithmId: hashOid(hash), algorithmParams: new asn1js.Null() });

  const attributes = sortedForDer([
    contentTypeAttribute,
    new EncodedAttribute(
      new pkijs.Attribute({
        type: OID.messageDigest,
        values: [
          new asn1js.OctetString({
            valueHex: createHash(hash)
              .update(contentsOf(toDer(content)))
              .digest(),
          }),
        ],
      }),
    ),
    opusInfoAttribute(text),
    statementTypeAttribute,
  ]);
  const signedAttrs = new pkijs.SignedAndUnsignedAttributes({ type: 0, attributes });
  const toBeSigned = toDer(new asn1js.Set({ value: attributes.map((a) => a.toSchema()) }));
  const answer = await signer.signDigest(hash, createHash(hash).update(toBeSigned).digest(), signal, file);
  const signatureValue = answer.signature;
  const { certificates, leaf, signerId } = parsedChain(answer.certificates);
  const publicKey = leaf.publicKey;
  // Every answer of the signer is checked against the certificate it came with (a fraction of a
  // millisecond) before the file is touched: a faulty HSM or a key rotated during the run fails that
  // file, never ships a broken signature.
  if (!verify(hash, toBeSigned, publicKey, signatureValue)) {
    throw new UserError(
      'the signer returned a signature that does not verify with the certificate it came with; the file is unchanged (was the key rotated during the run?)',
    );
  }

  const signerInfo = new pkijs.SignerInfo({
    version: 1,
    sid: signerId,
    digestAlgorithm: digestAlgorithm(),
    signedAttrs,
    signatureAlgorithm: signatureAlgorithm(publicKey, hash),
    signature: new asn1js.OctetString({ valueHex: signatureValue }),
  });
  const signedData = new pkijs.SignedData({
    version: 1,
    digestAlgorithms: [digestAlgorithm()],
    // Authenticode carries the content as the SEQUENCE itself, not wrapped in an OCTET STRING.
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: OID.spcIndirectData,
      eContent: content as unknown as asn1js.OctetString,
    }),
    certificates,
    signerInfos: [signerInfo],
  });
  return { signature: new AuthenticodeSignature(signedData), leaf };
}
