import { open, stat } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { DETECTION_BYTES, detectFormat, supportedFormats } from './registry.js';
/** Opens `path` read-only and picks its format from its content. */
export async function openSignable(path) {
    const info = await stat(path).catch((error) => {
        throw new UserError(error.code === 'ENOENT' ? 'no such file' : `cannot read it (${error.code ?? error.message})`);
    });
    if (info.isDirectory())
        throw new UserError('is a directory, not a file (name the files inside it)');
    if (!info.isFile())
        throw new UserError('is not a regular file');
    const handle = await open(path, 'r').catch((error) => {
        throw new UserError(`cannot open it for reading (${error.code ?? error.message})`);
    });
    try {
        const head = Buffer.alloc(Math.min(DETECTION_BYTES, info.size));
        await handle.read(head, 0, head.length, 0);
        const format = detectFormat(head);
        if (!format) {
            throw new UserError(info.size === 0
                ? 'the file is empty'
                : `not a file format vaultsign can sign (supported: ${supportedFormats()}); leave it out of the file list`);
        }
        const file = await format.open(handle, info.size);
        return { file, size: info.size, close: () => handle.close() };
    }
    catch (error) {
        await handle.close();
        throw error;
    }
}
