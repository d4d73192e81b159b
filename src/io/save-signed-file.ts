import { isRewrite, type FileRewrite } from '../formats/format.js';
import type { FileState } from './file-state.js';
import { applyEdit, type FileEdit } from './in-place-edit.js';
import { replaceFile, type Replacement } from './replace-file.js';

/**
 * Makes `path` carry its new signature: edited in place where the format allows, else replaced whole
 * (then `closeOriginal`, which closes the handle the original was read through, is called first),
 * by `replacement` when the new file was begun already.
 */
export async function saveSignedFile(
  path: string,
  change: FileEdit | FileRewrite,
  opened: FileState,
  closeOriginal: () => Promise<void> = async () => undefined,
  replacement?: Replacement,
): Promise<void> {
  if (!isRewrite(change)) await applyEdit(path, change, opened);
  else if (replacement) await replacement.commit(change, opened, closeOriginal);
  else await replaceFile(path, change, opened, closeOriginal);
}
