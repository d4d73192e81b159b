import { UserError } from '../errors.js';
import { listOf } from './inputs.js';
export function wholeNumber(value, name, min, max) {
    if (value === undefined || value.trim() === '')
        return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
        throw new UserError(`${name}: "${value}" is not a whole number from ${min} to ${max}`);
    return n;
}
export function fileQuery(inputs, positionals = []) {
    const depth = wholeNumber(inputs['files-folder-depth'], 'files-folder-depth', 0, 1000);
    const recurse = inputs['files-folder-recurse'] ?? false;
    if (depth !== undefined && !recurse)
        throw new UserError('files-folder-depth needs files-folder-recurse: true');
    const folder = inputs['files-folder'] || undefined;
    const folderFilter = listOf(inputs['files-folder-filter']);
    if (!folder && (folderFilter.length > 0 || recurse)) {
        throw new UserError('files-folder-filter and files-folder-recurse apply to files-folder, which is not set');
    }
    const query = {
        files: [...positionals, ...listOf(inputs.files)],
        folder,
        folderFilter,
        recurse,
        depth,
        catalog: inputs['files-catalog'] || undefined,
        exclude: listOf(inputs.exclude),
    };
    if (query.files.length === 0 && !query.folder && !query.catalog) {
        throw new UserError('nothing to sign: give files, files-folder or files-catalog');
    }
    return query;
}
