import { createPrivateKey, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { UserError, messageOf } from '../errors.js';
import { decryptPkcs12Pbe, isPkcs12Pbe } from './pkcs12-pbe.js';

const DATA = '1.2.840.113549.1.7.1';
const ENCRYPTED_DATA = '1.2.840.113549.1.7.6';
const KEY_BAG = '1.2.840.113549.1.12.10.1.1';
const SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';

export interface KeyAndCertificates {
  readonly key: KeyObject;
  /** DER certificates in file order. */
  readonly certificates: Buffer[];
}

const bytes = (view: ArrayBuffer | Uint8Array) =>
  Buffer.from(view instanceof Uint8Array ? view : new Uint8Array(view));

/** Reads a PKCS#12 file: checks its MAC (if it has one) with the password, decrypts its bags (PBES2 by pkijs, legacy 3DES here). */
export async function readPfx(der: Buffer, password: string, file: string): Promise<KeyAndCertificates> {
  const passwordBytes = new TextEncoder().encode(password).buffer as ArrayBuffer;
  let pfx: pkijs.PFX;
  try {
    pfx = pkijs.PFX.fromBER(new Uint8Array(der));
  } catch {
    throw new UserError(`${file}: not a PKCS#12 (PFX) file`);
  }
  // A PFX exported with -nomac has no integrity check: a wrong password then shows only when decrypting.
  const hasMac = pfx.macData !== undefined;
  try {
    await pfx.parseInternalValues({ password: passwordBytes, checkIntegrity: hasMac });
  } catch (error) {
    const wrong = /integrity/i.test(messageOf(error));
    throw new UserError(
      wrong ? wrongPassword(file, password) : `${file}: cannot read the PFX (${messageOf(error)})`,
    );
  }

  const decrypt: Decrypt = async (algorithm, ciphertext) => {
    if (isPkcs12Pbe(algorithm.algorithmId)) {
      const [salt, iterations] = (algorithm.algorithmParams as asn1js.Sequence).valueBlock.value as [
        asn1js.OctetString,
        asn1js.Integer,
      ];
      return decryptPkcs12Pbe(
        algorithm.algorithmId,
        bytes(salt.valueBlock.valueHexView),
        iterations.valueBlock.valueDec,
        password,
        ciphertext,
        file,
      );
    }
    const encryptedContentInfo = new pkijs.EncryptedContentInfo({
      contentType: DATA,
      contentEncryptionAlgorithm: algorithm,
      encryptedContent: new asn1js.OctetString({ valueHex: ciphertext }),
    });
    const plain = await pkijs
      .getCrypto(true)
      .decryptEncryptedContentInfo({ encryptedContentInfo, password: passwordBytes });
    return bytes(plain);
  };

  const authenticatedSafe = pfx.parsedValue?.authenticatedSafe;
  if (!authenticatedSafe) throw new UserError(`${file}: the PFX holds no content`);
  const { key, certificates } = await readBags(authenticatedSafe, decrypt).catch((error: unknown) => {
    if (error instanceof UserError) throw error;
    throw new UserError(
      hasMac
        ? `${file}: cannot decrypt the PFX, the file is damaged (${messageOf(error)})`
        : `${wrongPassword(file, password)} (or the file is damaged: it has no integrity check)`,
    );
  });
  if (!key) throw new UserError(`${file}: the PFX holds no private key`);
  if (certificates.length === 0) throw new UserError(`${file}: the PFX holds no certificate`);
  return { key, certificates };
}

/** No password at all is its own mistake: "wrong password" would send the user looking at a password they never gave. */
function wrongPassword(file: string, password: string): string {
  return password === ''
    ? `${file}: pfx-password is missing: the PFX is encrypted; give its password in pfx-password (CLI: or VAULTSIGN_PFX_PASSWORD)`
    : `${file}: wrong password for this PFX file`;
}

type Decrypt = (algorithm: pkijs.AlgorithmIdentifier, ciphertext: Buffer) => Promise<Buffer>;

/** The private key and certificates of the bags, decrypting the encrypted ones. */
async function readBags(
  authenticatedSafe: pkijs.AuthenticatedSafe,
  decrypt: Decrypt,
): Promise<{ key?: KeyObject; certificates: Buffer[] }> {
  let key: KeyObject | undefined;
  const certificates: Buffer[] = [];
  for (const contentInfo of authenticatedSafe.safeContents) {
    let safeContentsDer: Buffer;
    if (contentInfo.contentType === DATA) {
      safeContentsDer = bytes((contentInfo.content as asn1js.OctetString).valueBlock.valueHexView);
    } else if (contentInfo.contentType === ENCRYPTED_DATA) {
      const info = new pkijs.EncryptedData({ schema: contentInfo.content }).encryptedContentInfo;
      safeContentsDer = await decrypt(info.contentEncryptionAlgorithm, bytes(info.getEncryptedContent()));
    } else {
      continue;
    }
    for (const bag of pkijs.SafeContents.fromBER(new Uint8Array(safeContentsDer)).safeBags) {
      if (bag.bagId === CERT_BAG) {
        const { certValue } = bag.bagValue as pkijs.CertBag;
        certificates.push(
          bytes(
            certValue instanceof asn1js.OctetString
              ? certValue.valueBlock.valueHexView
              : certValue.toSchema().toBER(),
          ),
        );
      } else if (bag.bagId === KEY_BAG) {
        key = createPrivateKey({
          key: bytes((bag.bagValue as pkijs.PrivateKeyInfo).toSchema().toBER()),
          format: 'der',
          type: 'pkcs8',
        });
      } else if (bag.bagId === SHROUDED_KEY_BAG) {
        const shrouded = bag.bagValue as pkijs.PKCS8ShroudedKeyBag;
        const pkcs8 = await decrypt(
          shrouded.encryptionAlgorithm,
          bytes(shrouded.encryptedData.valueBlock.valueHexView),
        );
        key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
      }
    }
  }
  return { key, certificates };
}
