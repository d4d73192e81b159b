import { createPrivateKey } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { UserError, messageOf } from '../errors.js';
import { decryptPkcs12Pbe, isPkcs12Pbe } from './pkcs12-pbe.js';
const DATA = '1.2.840.113549.1.7.1';
const ENCRYPTED_DATA = '1.2.840.113549.1.7.6';
const KEY_BAG = '1.2.840.113549.1.12.10.1.1';
const SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const bytes = (view) => Buffer.from(view instanceof Uint8Array ? view : new Uint8Array(view));
/** Reads a PKCS#12 file: checks its MAC with the password, decrypts its bags (PBES2 by pkijs, legacy 3DES here). */
export async function readPfx(der, password, file) {
    const passwordBytes = new TextEncoder().encode(password).buffer;
    let pfx;
    try {
        pfx = pkijs.PFX.fromBER(new Uint8Array(der));
    }
    catch {
        throw new UserError(`${file}: not a PKCS#12 (PFX) file`);
    }
    try {
        await pfx.parseInternalValues({ password: passwordBytes, checkIntegrity: true });
    }
    catch (error) {
        const wrong = /integrity/i.test(messageOf(error));
        throw new UserError(wrong
            ? `${file}: wrong password for this PFX file`
            : `${file}: cannot read the PFX (${messageOf(error)})`);
    }
    const decrypt = async (algorithm, ciphertext) => {
        if (isPkcs12Pbe(algorithm.algorithmId)) {
            const [salt, iterations] = algorithm.algorithmParams.valueBlock.value;
            return decryptPkcs12Pbe(algorithm.algorithmId, bytes(salt.valueBlock.valueHexView), iterations.valueBlock.valueDec, password, ciphertext, file);
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
    if (!authenticatedSafe)
        throw new UserError(`${file}: the PFX holds no content`);
    let key;
    const certificates = [];
    for (const contentInfo of authenticatedSafe.safeContents) {
        let safeContentsDer;
        if (contentInfo.contentType === DATA) {
            safeContentsDer = bytes(contentInfo.content.valueBlock.valueHexView);
        }
        else if (contentInfo.contentType === ENCRYPTED_DATA) {
            const info = new pkijs.EncryptedData({ schema: contentInfo.content }).encryptedContentInfo;
            safeContentsDer = await decrypt(info.contentEncryptionAlgorithm, bytes(info.getEncryptedContent()));
        }
        else {
            continue;
        }
        for (const bag of pkijs.SafeContents.fromBER(new Uint8Array(safeContentsDer)).safeBags) {
            if (bag.bagId === CERT_BAG) {
                const { certValue } = bag.bagValue;
                certificates.push(bytes(certValue instanceof asn1js.OctetString
                    ? certValue.valueBlock.valueHexView
                    : certValue.toSchema().toBER()));
            }
            else if (bag.bagId === KEY_BAG) {
                key = createPrivateKey({
                    key: bytes(bag.bagValue.toSchema().toBER()),
                    format: 'der',
                    type: 'pkcs8',
                });
            }
            else if (bag.bagId === SHROUDED_KEY_BAG) {
                const shrouded = bag.bagValue;
                const pkcs8 = await decrypt(shrouded.encryptionAlgorithm, bytes(shrouded.encryptedData.valueBlock.valueHexView));
                key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
            }
        }
    }
    if (!key)
        throw new UserError(`${file}: the PFX holds no private key`);
    if (certificates.length === 0)
        throw new UserError(`${file}: the PFX holds no certificate`);
    return { key, certificates };
}
