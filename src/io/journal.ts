import { fstatSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { UserError } from '../errors.js';
import { ignoreFailure, readFully, writeFully, writeNewFile } from './exact-io.js';
import type { FileEdit } from './in-place-edit.js';
import { osErrorInWords } from './os-error.js';
import { isGone, thisRun, type RunOwner } from './run-owner.js';
import { journalPathOf, parseJournalName } from './sidecar-files.js';
import { syncFolder } from './sync-folder.js';

/** What a journal holds: enough of the original file to put it back exactly, and who wrote it. */
export interface Journal {
  readonly owner: RunOwner;
  /** The file it belongs to (device and inode): a file replaced since is not put back from it. */
  readonly dev: number;
  readonly ino: number;
  readonly length: number;
  /** Where the edit's bytes end: anything after both this and `length` was written by someone else. */
  readonly editEnd: number;
  readonly tailAt: number;
  readonly tail: string;
  readonly patches: { readonly offset: number; readonly bytes: string }[];
}

/**
 * Saves what `edit` will overwrite in `path` (open as `handle`), written in full and flushed under its
 * final name before anything is touched. Returns the journal and where it is.
 */
export async function writeJournal(
  path: string,
  handle: FileHandle,
  edit: FileEdit,
): Promise<{ journal: Journal; journalPath: string }> {
  const { size, dev, ino } = fstatSync(handle.fd);
  const read = async (offset: number, length: number) => {
    const wanted = Math.max(0, Math.min(length, size - offset));
    // An unsigned file has no tail to keep: no read for it.
    const bytes = wanted > 0 ? await readFully(handle, wanted, offset) : Buffer.alloc(0);
    if (!bytes) throw new UserError('changed while being signed (it became shorter)');
    return bytes;
  };
  const journal: Journal = {
    owner: thisRun,
    dev,
    ino,
    length: size,
    editEnd: edit.truncateTo + edit.append.length,
    tailAt: edit.truncateTo,
    tail: (await read(edit.truncateTo, size - edit.truncateTo)).toString('base64'),
    patches: [],
  };
  for (const p of edit.patches)
    journal.patches.push({
      offset: p.offset,
      bytes: (await read(p.offset, p.bytes.length)).toString('base64'),
    });
  const journalPath = journalPathOf(path, thisRun);
  await writeNewFile(`${journalPath}.tmp`, Buffer.from(JSON.stringify(journal)), { flush: true });
  try {
    await rename(`${journalPath}.tmp`, journalPath);
    await syncFolder(dirname(path));
  } catch (error) {
    ignoreFailure(() => unlinkSync(`${journalPath}.tmp`));
    ignoreFailure(() => unlinkSync(journalPath));
    throw error;
  }
  return { journal, journalPath };
}

/** Another program appended to the file while it was edited: it is put back without cutting anything. */
export class GrewDuringEdit extends Error {}

/**
 * Puts the journaled bytes back (the original tail first, so no space is freed before it is rewritten).
 * Bytes beyond the end of what the edit wrote (`editEnd`; by default all of it) belong to another
 * program: then the file is not cut and `GrewDuringEdit` says so.
 */
export async function restoreFromJournal(
  handle: FileHandle,
  journal: Journal,
  editEnd = journal.editEnd,
): Promise<void> {
  const size = (await handle.stat()).size;
  const grown = size > Math.max(journal.length, editEnd);
  await writeFully(handle, Buffer.from(journal.tail, 'base64'), journal.tailAt);
  if (!grown) await handle.truncate(journal.length);
  for (const patch of journal.patches)
    await writeFully(handle, Buffer.from(patch.bytes, 'base64'), patch.offset);
  await handle.sync();
  // Grown before the new tail was written: the original, followed by the other program's bytes.
  if (grown && editEnd <= journal.length) return;
  if (grown) {
    throw new GrewDuringEdit(
      `another program appended to it while the signature was written: nothing is cut and its header is put back, but the ${editEnd - journal.tailAt} bytes vaultsign wrote remain in it after offset ${journal.tailAt}`,
    );
  }
  const now = (await handle.stat()).size;
  if (now !== journal.length)
    throw new Error(`the file is ${now} bytes after restoring, not ${journal.length}`);
}

const kept = (journalPath: string) => `not signed: the journal ${journalPath} is kept, sign again to retry`;

/**
 * Puts `path` back from a complete journal a stopped run left. Returns false when there was nothing to
 * put back: the journal was taken already, or the file was deleted or rebuilt (a new file in its place)
 * since, so the journal belongs to a file that is gone.
 */
async function applyLeftJournal(path: string, journalPath: string): Promise<boolean> {
  const text = await readFile(journalPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined; // another run recovered it first
    throw error;
  });
  if (text === undefined) return false;
  const journal = JSON.parse(text) as Journal;
  const handle = await open(path, 'r+').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new UserError(
      `cannot open it to restore it from an earlier run's journal (${osErrorInWords(error)}); ${kept(journalPath)}`,
    );
  });
  try {
    const now = await handle?.stat();
    // Journals of earlier versions name no file: applied as before.
    if (!now || (journal.ino !== undefined && (now.dev !== journal.dev || now.ino !== journal.ino)))
      return false;
    await restoreFromJournal(handle!, journal);
    return true;
  } catch (error) {
    if (!(error instanceof GrewDuringEdit))
      throw new UserError(
        `restoring it from an earlier run's journal failed (${osErrorInWords(error)}); ${kept(journalPath)}`,
      );
    await unlink(journalPath);
    throw new UserError(`an earlier run was stopped while signing it and ${error.message}`);
  } finally {
    await handle?.close();
  }
}

/**
 * Puts `path` back from the journals a stopped run left beside it, and drops journals that never became
 * complete (the file was not touched then). Call it holding the file's lock: no run is editing the file,
 * so a journal is left over unless its owner is still running (it kept a journal it could not apply back;
 * the file is then refused). Returns true when the file was restored.
 */
export async function recoverFile(path: string, journalPaths: readonly string[]): Promise<boolean> {
  let restored = false;
  for (const journalPath of journalPaths) {
    // Listed at start-up, maybe gone since: the run that wrote it finished its edit.
    if (!(await stat(journalPath).catch(() => undefined))) continue;
    const name = parseJournalName(basename(journalPath))!;
    if (name.owner && name.owner.pid !== process.pid && !isGone(name.owner)) {
      throw new UserError(
        `a vaultsign run that is still going (pid ${name.owner.pid}) left a journal it could not apply (${journalPath}); not signed, unchanged: sign it again once that run has ended`,
      );
    }
    if (!name.unfinished && (await applyLeftJournal(path, journalPath))) restored = true;
    await unlink(journalPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  return restored;
}
