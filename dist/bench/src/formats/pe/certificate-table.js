import { UserError } from '../../errors.js';
const REVISION_2_0 = 0x0200;
const TYPE_PKCS_SIGNED_DATA = 0x0002;
/** A WIN_CERTIFICATE entry holding `der`, padded with zeros to a multiple of 8 bytes. */
export function buildCertificateTable(der) {
    const padded = (der.length + 8 + 7) & ~7;
    const table = Buffer.alloc(padded);
    table.writeUInt32LE(padded, 0);
    table.writeUInt16LE(REVISION_2_0, 4);
    table.writeUInt16LE(TYPE_PKCS_SIGNED_DATA, 6);
    der.copy(table, 8);
    return table;
}
/** The PKCS#7 signature of the first PKCS_SIGNED_DATA entry; nested signatures live inside it. */
export function signatureFromCertificateTable(table) {
    for (let pos = 0; pos + 8 <= table.length;) {
        const length = table.readUInt32LE(pos);
        if (length < 8 || pos + length > table.length) {
            throw new UserError(`the certificate table has a corrupt entry at offset ${pos} (length ${length})`);
        }
        if (table.readUInt16LE(pos + 6) === TYPE_PKCS_SIGNED_DATA)
            return table.subarray(pos + 8, pos + length);
        pos += (length + 7) & ~7;
    }
    return undefined;
}
