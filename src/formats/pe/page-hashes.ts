import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import * as asn1js from 'asn1js';
import type { HashAlgorithm } from '../../authenticode/algorithms.js';
import { UserError } from '../../errors.js';
import type { PeLayout } from './headers.js';

export const PAGE_HASHES_V1 = '1.3.6.1.4.1.311.2.3.1';
export const PAGE_HASHES_V2 = '1.3.6.1.4.1.311.2.3.2';
/** SpcSerializedObject class id that marks serialized page hashes. */
export const PAGE_HASH_CLASS_ID = Buffer.from('a6b586d5b4a12466ae05a217da8e60d6', 'hex');

/** Page hashes use SHA-1 under a SHA-1 signature, SHA-256 otherwise (as signtool and osslsigncode do). */
export function pageHashAlgorithm(signatureHash: HashAlgorithm): HashAlgorithm {
  return signatureHash === 'sha1' ? 'sha1' : 'sha256';
}

/**
 * Refuses page hashes for a file whose section raw data covers the CheckSum field or the Certificate
 * Table entry (a section starting at offset 0). Verifiers hash such a section page as it is in the
 * signed file, but those fields are written after the page hashes, and they depend on the table that
 * holds the page hashes (its size, and the checksum over it): no page hash can be right.
 */
export function checkPageHashable(layout: PeLayout): void {
  const start = layout.checksumOffset;
  const end = layout.certDirOffset + 8;
  const covering = layout.sections.findIndex((s) => s.rawOffset < end && s.rawOffset + s.rawSize > start);
  if (covering !== -1) {
    throw new UserError(
      `cannot add page hashes: a section's raw data (offset ${layout.sections[covering].rawOffset}) covers the PE headers, ` +
        'whose CheckSum and Certificate Table entry change when the signature is written; sign without generate-page-hashes',
    );
  }
}

/**
 * The page hash table: (file offset, hash) for the headers page and every SectionAlignment page of
 * every section, each zero-padded to a full page, then (end of last section, zero hash).
 */
export async function computePageHashes(
  handle: FileHandle,
  layout: PeLayout,
  hash: HashAlgorithm,
): Promise<Buffer> {
  const page = layout.sectionAlignment;
  const headers = layout.sizeOfHeaders;
  if (page < 512 || page > 4 << 20 || page < headers || headers < layout.certDirOffset + 8) {
    throw new UserError(
      `cannot compute page hashes: section alignment ${page} and header size ${headers} are not usable`,
    );
  }
  const entries: Buffer[] = [];
  const entry = (offset: number, digest: Buffer) => {
    const offsetBytes = Buffer.alloc(4);
    offsetBytes.writeUInt32LE(offset);
    entries.push(offsetBytes, digest);
  };
  const buffer = Buffer.alloc(page);

  await handle.read(buffer, 0, headers, 0);
  entry(
    0,
    createHash(hash)
      .update(buffer.subarray(0, layout.checksumOffset))
      .update(buffer.subarray(layout.checksumOffset + 4, layout.certDirOffset))
      .update(buffer.subarray(layout.certDirOffset + 8, headers))
      .update(Buffer.alloc(page - headers))
      .digest(),
  );

  let lastEnd = 0;
  for (const { rawOffset, rawSize } of layout.sections) {
    for (let at = 0; at < rawSize; at += page) {
      const length = Math.min(page, rawSize - at);
      buffer.fill(0);
      await handle.read(buffer, 0, length, rawOffset + at);
      entry(rawOffset + at, createHash(hash).update(buffer).digest());
    }
    lastEnd = rawOffset + rawSize;
  }
  entry(lastEnd, Buffer.alloc(createHash(hash).digest().length));
  return Buffer.concat(entries);
}

/** SpcSerializedObject.serializedData: SET { SEQUENCE { page-hash OID, SET { OCTET STRING table } } }. */
export function encodePageHashes(table: Buffer, hash: HashAlgorithm): Buffer {
  const type = hash === 'sha1' ? PAGE_HASHES_V1 : PAGE_HASHES_V2;
  const value = new asn1js.Set({
    value: [
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({ value: type }),
          new asn1js.Set({ value: [new asn1js.OctetString({ valueHex: table })] }),
        ],
      }),
    ],
  });
  return Buffer.from(value.toBER());
}

/** The page hash table and its algorithm from serializedData, or undefined if it holds none. */
export function decodePageHashes(serialized: Buffer): { hash: HashAlgorithm; table: Buffer } | undefined {
  const parsed = asn1js.fromBER(serialized);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Set)) return undefined;
  const attribute = parsed.result.valueBlock.value[0];
  if (!(attribute instanceof asn1js.Sequence)) return undefined;
  const [type, values] = attribute.valueBlock.value;
  if (!(type instanceof asn1js.ObjectIdentifier) || !(values instanceof asn1js.Set)) return undefined;
  const oid = type.valueBlock.toString();
  const hash = oid === PAGE_HASHES_V1 ? 'sha1' : oid === PAGE_HASHES_V2 ? 'sha256' : undefined;
  const octets = values.valueBlock.value[0];
  if (!hash || !(octets instanceof asn1js.OctetString)) return undefined;
  return { hash, table: Buffer.from(octets.valueBlock.valueHexView) };
}
