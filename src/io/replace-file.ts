import { chmod, chown, open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
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
 * The new version of a file rewritten whole, written beside it (`.NAME.vaultsign-new-PID-HOST`) and
 * renamed over it only once complete: the one step that cannot be seen half done, so a crash, a full
 * disk or a kill leaves the original or the signed file, never a mix (a stopped run's new file is
 * removed by the next run). The caller holds the file's lock. A symbolic link is kept, and the file it
 * points to replaced. The mode (and, as root, the owner) is kept; hard links to the original keep the
 * original bytes, and extended attributes and ACLs are not copied.
 */
export class Replacement {
  private state: 'open' | 'closed' | 'done' = 'open';

  private constructor(
    private readonly target: string,
    private readonly newPath: string,
    /** The new file, open for writing. */
    readonly handle: FileHandle,
    private readonly mode: number,
    private readonly uid: number,
    private readonly gid: number,
  ) {}

  /** Creates the new file beside `path` (beside the file it links to). */
  static async begin(path: string): Promise<Replacement> {
    const found = async () => {
      const target = await realpath(path);
      return { target, ...(await stat(target)) };
    };
    const { target, mode, uid, gid } = await found().catch((error: unknown) => {
      throw new EditFailed(`cannot find it to replace it: ${osErrorInWords(error)}; ${UNCHANGED}`);
    });
    const newPath = newFilePathOf(target, thisRun);
    const handle = await open(newPath, 'wx', mode & 0o7777).catch((error: unknown) => {
      throw new EditFailed(
        `cannot create the signed file beside it (${osErrorInWords(error)}): this format is rewritten whole, which needs write access to its folder; ${UNCHANGED}`,
      );
    });
    return new Replacement(target, newPath, handle, mode, uid, gid);
  }

  /**
   * Completes the new file with `rewrite`, flushes it and renames it over the original, unless the
   * original changed since it was read (`opened`). `closeOriginal` closes the handle the original was
   * read through, before the rename. On any failure the new file is removed.
   */
  async commit(rewrite: FileRewrite, opened: FileState, closeOriginal: () => Promise<void>): Promise<void> {
    try {
      const length = await rewrite.write(this.handle);
      await this.handle.sync();
      const { size } = await this.handle.stat();
      if (size !== length) throw new Error(`the new file is ${size} bytes after writing, not ${length}`);
      this.state = 'closed';
      await this.handle.close();
      // The owner, where this run may set it (as root); the mode, which the umask may have narrowed.
      await chown(this.newPath, this.uid, this.gid).catch(() => undefined);
      await chmod(this.newPath, this.mode & 0o7777);
      await assertUnchanged(this.target, opened);
      // Windows cannot replace a file this process still has open.
      await closeOriginal();
      await renameOver(this.newPath, this.target);
      this.state = 'done';
    } catch (error) {
      await this.discard();
      throw asEditFailure(error);
    }
    // Renamed: the signed file is in place; the flush makes the new name survive a power cut.
    await syncFolder(dirname(this.target)).catch(() => undefined);
  }

  /** Removes the new file (nothing once it replaced the original): the original stays as it was. */
  async discard(): Promise<void> {
    if (this.state === 'done') return;
    if (this.state === 'open') await this.handle.close().catch(() => undefined);
    this.state = 'done';
    await unlink(this.newPath).catch(() => undefined);
  }
}

/** A failure while the new file was written, said as what became of the file. */
export function asEditFailure(error: unknown): EditFailed {
  if (error instanceof EditFailed) return error;
  return new EditFailed(`writing the signed file failed: ${osErrorInWords(error)}; ${UNCHANGED}`);
}

/** Writes the signed file whole beside the original and renames it over the original (see Replacement). */
export async function replaceFile(
  path: string,
  rewrite: FileRewrite,
  opened: FileState,
  closeOriginal: () => Promise<void>,
): Promise<void> {
  await (await Replacement.begin(path)).commit(rewrite, opened, closeOriginal);
}
