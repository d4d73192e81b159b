import { chmod, open, readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { FileRewrite } from '../formats/format.js';
import { changeBetween, fileState, type FileState } from './file-state.js';
import { EditFailed } from './in-place-edit.js';
import { osErrorInWords } from './os-error.js';
import { isGone, thisRun } from './run-owner.js';
import { newFilePathOf, parseNewFileName } from './sidecar-files.js';
import { syncFolder } from './sync-folder.js';

const UNCHANGED = 'not signed, unchanged';

/** New versions of `target` that stopped runs left beside it: never complete, so only removed. */
async function removeLeftNewFiles(target: string): Promise<void> {
  const folder = dirname(target);
  for (const entry of await readdir(folder).catch(() => [] as string[])) {
    const left = parseNewFileName(entry);
    if (left?.file === basename(target) && isGone(left.owner))
      await unlink(join(folder, entry)).catch(() => undefined);
  }
}

async function assertUnchanged(target: string, opened: FileState): Promise<void> {
  const change = changeBetween(opened, fileState(await stat(target)));
  if (change) throw new EditFailed(`changed while being signed (${change}); ${UNCHANGED}`);
}

/**
 * Writes the signed file whole beside the original and renames it over the original, the one step
 * that cannot be seen half done: a crash, a full disk or a kill leaves the original or the signed
 * file, never a mix (a stopped run's new file is removed by the next run). The caller holds the
 * file's lock; `opened` is the file as it was read for signing, and a file that changed since is not
 * replaced. A symbolic link is kept, and the file it points to replaced. Hard links to the original
 * keep the original bytes.
 */
export async function replaceFile(path: string, rewrite: FileRewrite, opened: FileState): Promise<void> {
  const target = await realpath(path).catch((error: unknown) => {
    throw new EditFailed(`cannot find it to replace it: ${osErrorInWords(error)}; ${UNCHANGED}`);
  });
  await removeLeftNewFiles(target);
  const newPath = newFilePathOf(target, thisRun);
  try {
    const { mode } = await stat(target);
    const handle = await open(newPath, 'wx', mode & 0o7777);
    try {
      const length = await rewrite.write(handle);
      await handle.sync();
      const { size } = await handle.stat();
      if (size !== length) throw new Error(`the new file is ${size} bytes after writing, not ${length}`);
    } finally {
      await handle.close();
    }
    // The umask may have narrowed the mode given at creation.
    await chmod(newPath, mode & 0o7777);
    await assertUnchanged(target, opened);
    await rename(newPath, target);
  } catch (error) {
    await unlink(newPath).catch(() => undefined);
    if (error instanceof EditFailed) throw error;
    throw new EditFailed(`writing the signed file failed: ${osErrorInWords(error)}; ${UNCHANGED}`);
  }
  // Renamed: the signed file is in place; the flush makes the new name survive a power cut.
  await syncFolder(dirname(target)).catch(() => undefined);
}
