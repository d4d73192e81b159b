import { AuthenticodeSignature } from '../authenticode/signature.js';
import { verifySignature } from '../authenticode/verify-signature.js';
import { UserError, messageOf } from '../errors.js';
import { openSignable } from '../formats/open-file.js';
export function isValid(report) {
    return report.problems.length === 0 && report.nested.every(isValid);
}
export async function verifyFile(path, trust) {
    const opened = await openSignable(path);
    try {
        const der = opened.file.signature;
        if (!der)
            throw new UserError('not signed');
        let signature;
        try {
            signature = AuthenticodeSignature.fromDer(der);
        }
        catch (error) {
            throw new UserError(`the signature cannot be read: ${messageOf(error)}`);
        }
        return await verifySignature(signature, opened.file, trust);
    }
    finally {
        await opened.close();
    }
}
export async function verifyFiles(paths, trust) {
    const results = [];
    for (const path of paths) {
        try {
            results.push({ path, report: await verifyFile(path, trust) });
        }
        catch (error) {
            results.push({ path, error: messageOf(error) });
        }
    }
    return results;
}
