import * as asn1js from 'asn1js';
import { obsoleteLink } from '../../authenticode/obsolete-link.js';
import { PAGE_HASH_CLASS_ID } from './page-hashes.js';

export const SPC_PE_IMAGE_DATA = '1.3.6.1.4.1.311.2.1.15';

const context = (tagNumber: number, value: asn1js.AsnType[]) =>
  new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber }, value });

/** SpcLink.moniker = SpcSerializedObject { classId, serializedData } carrying page hashes. */
function pageHashLink(serializedPageHashes: Buffer): asn1js.AsnType {
  return context(1, [
    new asn1js.OctetString({ valueHex: PAGE_HASH_CLASS_ID }),
    new asn1js.OctetString({ valueHex: serializedPageHashes }),
  ]);
}

/** SpcPeImageData { flags BIT STRING (empty), file [0] SpcLink }. */
export function encodePeImageData(serializedPageHashes?: Buffer): asn1js.Sequence {
  const link = serializedPageHashes ? pageHashLink(serializedPageHashes) : obsoleteLink();
  return new asn1js.Sequence({
    value: [new asn1js.BitString({ valueHex: new ArrayBuffer(0) }), context(0, [link])],
  });
}

/** The serialized page hashes inside an SpcPeImageData, if it carries any. */
export function pageHashesOf(imageData: asn1js.AsnType | undefined): Buffer | undefined {
  if (!(imageData instanceof asn1js.Sequence)) return undefined;
  const file = imageData.valueBlock.value.find((v) => v.idBlock.tagClass === 3 && v.idBlock.tagNumber === 0);
  const link = file && (file as asn1js.Constructed).valueBlock.value[0];
  if (!link || link.idBlock.tagClass !== 3 || link.idBlock.tagNumber !== 1) return undefined;
  const [classId, data] = (link as asn1js.Constructed).valueBlock.value;
  if (!(classId instanceof asn1js.OctetString) || !(data instanceof asn1js.OctetString)) return undefined;
  if (!Buffer.from(classId.valueBlock.valueHexView).equals(PAGE_HASH_CLASS_ID)) return undefined;
  return Buffer.from(data.valueBlock.valueHexView);
}
