import { isRewrite, type FileRewrite } from '../formats/format.js';
import type { FileState } from './file-state.js';
import { applyEdit, type FileEdit } from './in-place-edit.js';
import { replaceFile } from './replace-file.js';

/** Makes `path` carry its new signature: edited in place where the format allows, else replaced whole. */
export async function saveSignedFile(
  path: string,
  change: FileEdit | FileRewrite,
  opened: FileState,
): Promise<void> {
  if (isRewrite(change)) await replaceFile(path, change, opened);
  else await applyEdit(path, change, opened);
}
