import * as asn1js from 'asn1js';

export function toDer(value: asn1js.AsnType): Buffer {
  return Buffer.from(value.toBER(false));
}

/**
 * A value that encodes as the DER it holds: for parts that are the same in every signature of a run
 * (certificates) or already encoded once (signed attributes). asn1js' RawData, taught the writer
 * that constructed parents pass to their members.
 */
class EncodedDer extends asn1js.RawData {
  override toBER(sizeOnly?: boolean, writer?: asn1js.ViewWriter): ArrayBuffer {
    const der = super.toBER(sizeOnly);
    writer?.write(der);
    return der;
  }
}

/**
 * `der` as a value to place in an asn1js or pkijs structure that will be encoded. Only encoding works
 * on it (it has no tag or value blocks to read): hence the cast, in this one place.
 */
export function encoded(der: Uint8Array): asn1js.AsnType {
  return new EncodedDer({ data: der }) as unknown as asn1js.AsnType;
}

/** Parses DER, or throws with `what` named in the message. */
export function fromDer(der: Uint8Array, what: string): asn1js.AsnType {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1) throw new Error(`${what} is not valid DER: ${parsed.result.error}`);
  return parsed.result;
}

/**
 * The total length (header and contents) of the DER value at the start of `der`, read from its
 * header alone. Throws for an indefinite (BER) or over-long length form.
 */
export function derLength(der: Uint8Array): number {
  if (der.length < 2) throw new Error('its DER header is truncated');
  if ((der[0] & 0x1f) === 0x1f) throw new Error('its DER tag is not a single byte');
  const first = der[1];
  if (first < 0x80) return 2 + first;
  const count = first & 0x7f;
  if (count === 0) throw new Error('it has an indefinite (BER) length, not DER');
  if (count > 4 || der.length < 2 + count) throw new Error('its DER length is unreadable');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + der[2 + i];
  if (length < 0x80 || der[2] === 0) throw new Error('its DER length is not minimal (BER, not DER)');
  return 2 + count + length;
}

/** The contents octets of a DER value: what follows its tag and length. */
export function contentsOf(der: Buffer): Buffer {
  const first = der[1];
  const header = first < 0x80 ? 2 : 2 + (first & 0x7f);
  return der.subarray(header);
}
