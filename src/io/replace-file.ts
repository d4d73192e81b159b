import { chmod, chown, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname } from 'node:path';
import type { FileRewrite } from '../formats/format.js';
import { changeBetween, fileState, type FileState } from './file-state.js';
import { EditFailed } from './in-place-edit.js';
import { osErrorInWords } from './os-error.js';
import { isGone, thisRun } from './run-owner.js';
import { newFilePathOf, parseNewFileName } from './sidecar-files.js';
import { syncFolder } from './sync-folder.js';

const UNCHANGED = 'not signed, unchanged';

/** Removes the new versions of a file that stopped runs left (never complete); a live run's stay. */
export async function removeLeftNewFiles(newFiles: readonly string[]): Promise<void> {
  for (const path of newFiles) {
    const left = parseNewFileName(basename(path));
    if (left && isGone(left.owner)) await unlink(path).catch(() => undefined);
  }
}

/**
 * Renames `from` over `to`. On Windows a scanner or indexer may hold the file for a moment (EPERM,
 * EBUSY, EACCES): a few tries over about 1.5 s, as other tools do.
 */
async function renameOver(from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await rename(from, to);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (process.platform !== 'win32' || attempt >= 4 || !['EPERM', 'EBUSY', 'EACCES'].includes(code))
        throw error;
      await sleep(100 * 2 ** attempt);
    }
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
 * replaced; `closeOriginal` closes the handle it was read through, before the rename. A symbolic link
 * is kept, and the file it points to replaced. The mode (and, as root, the owner) is kept; hard links
 * to the original keep the original bytes, and extended attributes and ACLs are not copied.
 */
export async function replaceFile(
  path: string,
  rewrite: FileRewrite,
  opened: FileState,
  closeOriginal: () => Promise<void>,
): Promise<void> {
  const target = await realpath(path).catch((error: unknown) => {
    throw new EditFailed(`cannot find it to replace it: ${osErrorInWords(error)}; ${UNCHANGED}`);
  });
  const newPath = newFilePathOf(target, thisRun);
  try {
    const { mode, uid, gid } = await stat(target);
    const handle = await open(newPath, 'wx', mode & 0o7777).catch((error: unknown) => {
      throw new EditFailed(
        `cannot create the signed file beside it (${osErrorInWords(error)}): this format is rewritten whole, which needs write access to its folder; ${UNCHANGED}`,
      );
    });
    try {
      const length = await rewrite.write(handle);
      await handle.sync();
      const { size } = await handle.stat();
      if (size !== length) throw new Error(`the new file is ${size} bytes after writing, not ${length}`);
    } finally {
      await handle.close();
    }
    // The owner, where this run may set it (as root); the mode, which the umask may have narrowed.
    await chown(newPath, uid, gid).catch(() => undefined);
    await chmod(newPath, mode & 0o7777);
    await assertUnchanged(target, opened);
    // Windows cannot replace a file this process still has open.
    await closeOriginal();
    await renameOver(newPath, target);
  } catch (error) {
    await unlink(newPath).catch(() => undefined);
    if (error instanceof EditFailed) throw error;
    throw new EditFailed(`writing the signed file failed: ${osErrorInWords(error)}; ${UNCHANGED}`);
  }
  // Renamed: the signed file is in place; the flush makes the new name survive a power cut.
  await syncFolder(dirname(target)).catch(() => undefined);
}
