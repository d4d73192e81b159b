import { UserError } from '../errors.js';
import { listOf, type Inputs } from './inputs.js';

/** What to sign, as the user described it; discovery turns it into a list of files. */
export interface FileQuery {
  readonly files: readonly string[];
  readonly folder?: string;
  readonly folderFilter: readonly string[];
  readonly recurse: boolean;
  /** Folder levels below files-folder to search; undefined: no limit. */
  readonly depth?: number;
  readonly catalog?: string;
  readonly exclude: readonly string[];
}

export function wholeNumber(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UserError(
      `${name}: "${value}" is not a whole number from ${min} to ${max}; give one in that range`,
    );
  return n;
}

export function fileQuery(inputs: Inputs, positionals: readonly string[] = []): FileQuery {
  const depth = wholeNumber(inputs['files-folder-depth'], 'files-folder-depth', 0, 1000);
  const recurse = inputs['files-folder-recurse'] ?? false;
  if (depth !== undefined && !recurse)
    throw new UserError(
      'files-folder-depth limits recursion, which is off: set files-folder-recurse: true, or remove files-folder-depth',
    );
  const folder = inputs['files-folder'] || undefined;
  const folderFilter = listOf(inputs['files-folder-filter']);
  if (!folder && (folderFilter.length > 0 || recurse)) {
    throw new UserError(
      'files-folder-filter and files-folder-recurse apply to files-folder, which is not set: set files-folder, or remove them',
    );
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
