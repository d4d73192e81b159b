import { createSignature } from '../authenticode/create-signature.js';
import { fromDer } from '../authenticode/der.js';
import { OID } from '../authenticode/oids.js';
import { AuthenticodeSignature } from '../authenticode/signature.js';
import { requestTimestamp } from '../authenticode/timestamp-client.js';
import { UserError, messageOf } from '../errors.js';
import { openSignable } from '../formats/open-file.js';
import { applyEdit } from '../io/in-place-edit.js';
function existingSignature(der) {
    try {
        return AuthenticodeSignature.fromDer(der);
    }
    catch (error) {
        throw new UserError(`its existing signature cannot be read (${messageOf(error)}); sign without --append-signature to replace it`);
    }
}
/** Signs one file: local digest, remote signature, timestamp, then a safe rewrite of the file. */
export async function signFile(path, signer, settings, signal) {
    const opened = await openSignable(path);
    try {
        const { file } = opened;
        if (file.signature && settings.existing === 'skip') {
            return { status: 'skipped', detail: 'already signed (--skip-signed)' };
        }
        const primary = file.signature && settings.existing === 'append' ? existingSignature(file.signature) : undefined;
        const indirect = await file.indirectData(settings.fileDigest, { pageHashes: settings.pageHashes });
        const signature = await createSignature(indirect, signer, settings, signal);
        let timestamp;
        if (settings.timestamp) {
            const result = await requestTimestamp(signature.signatureValue, {
                urls: [...settings.timestamp.urls],
                hash: settings.timestamp.digest,
                signal,
            });
            signature.addUnsignedValue(OID.rfc3161Timestamp, fromDer(result.token, 'the timestamp token'));
            timestamp = result.time;
        }
        let blob = signature.toDer();
        if (primary) {
            primary.addUnsignedValue(OID.nestedSignature, fromDer(blob, 'the new signature'));
            blob = primary.toDer();
        }
        // Past this point the file is written to the end even if the deadline passes: never half a file.
        signal?.throwIfAborted();
        await applyEdit(path, await file.signatureEdit(blob));
        const how = primary
            ? 'appended as a nested signature'
            : file.signature
                ? 'signature replaced'
                : 'new signature';
        return { status: 'signed', detail: how, timestamp };
    }
    finally {
        await opened.close();
    }
}
