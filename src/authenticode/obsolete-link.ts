import * as asn1js from 'asn1js';

/**
 * SpcLink.file [2] = SpcString.unicode [0] "<<<Obsolete>>>": what signtool writes where a link is
 * required but carries nothing (a PE without page hashes; osslsigncode's cabinet data).
 */
export function obsoleteLink(): asn1js.Constructed {
  const unicode = Buffer.from('<<<Obsolete>>>', 'utf16le').swap16();
  return new asn1js.Constructed({
    idBlock: { tagClass: 3, tagNumber: 2 },
    value: [new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: 0 }, valueHex: unicode })],
  });
}
