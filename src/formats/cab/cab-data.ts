import * as asn1js from 'asn1js';

/** SPC_CAB_DATA_OBJID: the indirect data type of a cabinet's signature. */
export const SPC_CAB_DATA = '1.3.6.1.4.1.311.2.1.25';

const CONTEXT = 3;

function isContext(value: asn1js.AsnType | undefined, tagNumber: number): value is asn1js.Constructed {
  return (
    value instanceof asn1js.BaseBlock &&
    value.idBlock.tagClass === CONTEXT &&
    value.idBlock.tagNumber === tagNumber &&
    value.idBlock.isConstructed
  );
}

/**
 * Why `type`/`value` is not a cabinet's indirect data, or undefined. Both peers' forms are accepted:
 * osslsigncode's bare SpcLink.file, and jsign's SpcPeImageData { flags BIT STRING, file [0] SpcLink }.
 * The link's content is not checked: it is obsolete, and the digest is what binds the file.
 */
export function cabDataProblem(type: string, value: asn1js.AsnType | undefined): string | undefined {
  if (type !== SPC_CAB_DATA) return `the signature is not for a cabinet (content type ${type})`;
  if (isContext(value, 2)) return undefined;
  if (value instanceof asn1js.Sequence) {
    const [flags, file] = value.valueBlock.value;
    if (flags instanceof asn1js.BitString && isContext(file, 0)) return undefined;
  }
  return 'its SPC_CAB_DATA value is neither an SpcLink nor an SpcPeImageData';
}
