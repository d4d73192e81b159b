import { derLength } from '../../authenticode/der.js';
import { UserError } from '../../errors.js';

function corrupt(problem: string): never {
  throw new UserError(
    `its signature is corrupt: ${problem} (re-sign a clean build of the cabinet, or remove its signature)`,
  );
}

/**
 * The DER PKCS#7 inside the blob a signature record points to. osslsigncode pads the blob with zeros
 * to a multiple of 8 (and records the padded length); jsign records the DER's own length. Anything
 * after the DER but that padding would be bytes no signature covers.
 */
export function signatureFromBlob(blob: Buffer): Buffer {
  let length: number;
  try {
    length = derLength(blob);
  } catch (error) {
    corrupt(`it cannot be read: ${(error as Error).message}`);
  }
  if (length > blob.length) corrupt(`its DER length (${length}) overruns the ${blob.length} bytes recorded`);
  const rest = blob.subarray(length);
  if (rest.length >= 8 || !rest.every((b) => b === 0))
    corrupt(`${rest.length} bytes other than padding follow it`);
  return blob.subarray(0, length);
}

/** `der` padded with zeros to a multiple of 8 bytes, as osslsigncode writes it (`cab_append_pkcs7`). */
export function paddedSignature(der: Buffer): Buffer {
  return Buffer.concat([der, Buffer.alloc((8 - (der.length % 8)) % 8)]);
}
