import * as asn1js from 'asn1js';

/** SPC_SIPINFO_OBJID: the indirect data type of formats Windows hashes through a SIP (MSI, scripts). */
export const SPC_SIP_INFO = '1.3.6.1.4.1.311.2.1.30';

/** Which SIP a signature is for: its version and GUID, the GUID's 16 bytes as stored (little-endian fields). */
export interface SipIdentity {
  readonly version: number;
  readonly uuid: Buffer;
}

/** SpcSipInfo ::= SEQUENCE { version INTEGER, uuid OCTET STRING (16), reserved1..5 INTEGER (all 0) }. */
export function encodeSipInfo({ version, uuid }: SipIdentity): asn1js.Sequence {
  return new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: version }),
      new asn1js.OctetString({ valueHex: uuid }),
      ...Array.from({ length: 5 }, () => new asn1js.Integer({ value: 0 })),
    ],
  });
}

/**
 * Why an indirect data `type`/`value` is not a SpcSipInfo for `expected`, or undefined when it is.
 * `what` names the format for the message ("an MSI").
 */
export function sipInfoProblem(
  type: string,
  value: asn1js.AsnType | undefined,
  expected: SipIdentity,
  what: string,
): string | undefined {
  if (type !== SPC_SIP_INFO) return `the signature is not for ${what} (content type ${type})`;
  const fields = value instanceof asn1js.Sequence ? value.valueBlock.value : [];
  const [version, uuid] = fields;
  if (!(version instanceof asn1js.Integer) || !(uuid instanceof asn1js.OctetString))
    return 'its SpcSipInfo cannot be read';
  const guid = Buffer.from(uuid.valueBlock.valueHexView);
  if (!guid.equals(expected.uuid) || version.valueBlock.valueDec !== expected.version)
    return `the signature is for another SIP than ${what}'s (version ${version.valueBlock.valueDec}, GUID ${guid.toString('hex')})`;
  return undefined;
}
