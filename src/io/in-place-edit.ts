import { closeSync, fstatSync, openSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { readFully, writeFully, writeFullySync } from './exact-io.js';
import { changeBetween, fileState, type FileState } from './file-state.js';
import { GrewDuringEdit, restoreFromJournal, writeJournal, type Journal } from './journal.js';
import { osErrorInWords } from './os-error.js';

/** A change to a file that keeps most of it: patch some bytes, cut the tail, append new bytes. */
export interface FileEdit {
  readonly patches: readonly { readonly offset: number; readonly bytes: Buffer }[];
  /** The file is cut here, then `append` is written from here on. */
  readonly truncateTo: number;
  readonly append: Buffer;
}

const UNCHANGED = 'not signed, unchanged';

/** The edit failed; the message says what became of the file (put back, or where its journal is). */
export class EditFailed extends UserError {}

/** Another program changed the file while it was signed. */
class ChangedMeanwhile extends EditFailed {}

/** A look at the file's state: a stat takes microseconds, so not through the thread pool. */
function assertUnchanged(fd: number, opened: FileState, sizeOnly = false): void {
  const now = fileState(fstatSync(fd));
  const change = changeBetween(opened, sizeOnly ? { ...now, mtimeMs: opened.mtimeMs } : now);
  if (change) throw new ChangedMeanwhile(`changed while being signed (${change})`);
}

/**
 * Appends `bytes` at the file's end as the system places it, not at a computed offset: were another
 * program appending at this very moment, both writes are kept (and the size check that follows fails)
 * instead of one overwriting the other.
 */
function appendAtEnd(path: string, bytes: Buffer, opened: FileState): void {
  const fd = openSync(path, 'a');
  try {
    assertUnchanged(fd, opened, true);
    // Flushed with the rest of the edit: a flush covers the file, whichever descriptor wrote. A
    // signature is a few KB: written at once.
    writeFullySync(fd, bytes, null);
  } finally {
    closeSync(fd);
  }
}

/** Reads back what `edit` wrote and the file's size: a write the disk did not keep is caught here. */
async function confirmWritten(handle: FileHandle, edit: FileEdit): Promise<void> {
  const { size } = fstatSync(handle.fd);
  const expected = edit.truncateTo + edit.append.length;
  if (size > expected)
    throw new ChangedMeanwhile(
      `changed while being signed (it grew to ${size} bytes as the signature was written)`,
    );
  if (size !== expected) throw new Error(`the file is ${size} bytes after writing, not ${expected}`);
  for (const { offset, bytes } of [...edit.patches, { offset: edit.truncateTo, bytes: edit.append }]) {
    const back = await readFully(handle, bytes.length, offset);
    if (!back?.equals(bytes))
      throw new Error(`the bytes read back at offset ${offset} differ from those written`);
  }
}

/** Puts the original back after a failed write; when that fails too, the journal stays and the error says where. */
async function rollBack(
  handle: FileHandle,
  journal: Journal,
  journalPath: string,
  editEnd: number,
  why: string,
): Promise<never> {
  try {
    await restoreFromJournal(handle, journal, editEnd);
  } catch (error) {
    if (error instanceof GrewDuringEdit) {
      await unlink(journalPath);
      throw new EditFailed(`${why}; not signed: ${error.message}`);
    }
    throw new EditFailed(
      `${why}, and putting the original bytes back failed too (${osErrorInWords(error)}): the file is damaged until restored; its original bytes are kept in ${journalPath}, and the next vaultsign run on it restores them`,
    );
  }
  // A journal that cannot be removed only puts back what is already there.
  await unlink(journalPath).catch(() => undefined);
  throw new EditFailed(`${why}; ${UNCHANGED}`);
}

/**
 * Applies `edit` in place, without copying the file: a multi-GB installer costs a few KB of writes.
 * `opened` is the file as it was read for signing; a file that changed since is not touched. The
 * caller holds the file's lock. Every write is checked in full and read back; any failure puts the
 * original back from the journal before this returns. Once started it runs to its end: a deadline or
 * a signal never stops it halfway. A kill leaves the file untouched, fully edited, or journaled (the
 * next run restores it).
 */
export async function applyEdit(path: string, edit: FileEdit, opened: FileState): Promise<void> {
  const handle = await open(path, 'r+').catch((error: unknown) => {
    throw new EditFailed(`cannot open it for writing: ${osErrorInWords(error)}; ${UNCHANGED}`);
  });
  try {
    try {
      assertUnchanged(handle.fd, opened);
    } catch (error) {
      throw new EditFailed(`${(error as Error).message}; ${UNCHANGED}`);
    }
    const { journal, journalPath } = await writeJournal(path, handle, edit).catch((error: unknown) => {
      const why =
        error instanceof UserError ? error.message : `writing its journal failed: ${osErrorInWords(error)}`;
      throw new EditFailed(`${why}; ${UNCHANGED}`);
    });
    let written = false;
    /** How far the file may hold our bytes: a rollback cuts nothing beyond it. */
    let editEnd = journal.length;
    try {
      // Last look after the journal's flush, before the first byte is written.
      assertUnchanged(handle.fd, opened);
      written = true;
      for (const { offset, bytes } of edit.patches) await writeFully(handle, bytes, offset);
      assertUnchanged(handle.fd, opened, true);
      editEnd = Math.max(journal.length, journal.editEnd);
      if (edit.truncateTo === opened.size) {
        appendAtEnd(path, edit.append, opened);
      } else {
        // The new tail first, then the cut: an old, longer table is overwritten in place and no space
        // is freed before the new bytes have it. The size is checked right before the cut.
        await writeFully(handle, edit.append, edit.truncateTo);
        const end = edit.truncateTo + edit.append.length;
        if (end < opened.size) {
          assertUnchanged(handle.fd, opened, true);
          await handle.truncate(end);
        }
      }
      await handle.sync();
      await confirmWritten(handle, edit);
    } catch (error) {
      if (!written) {
        await unlink(journalPath).catch(() => undefined);
        throw new EditFailed(`${(error as Error).message}; ${UNCHANGED}`);
      }
      const why =
        error instanceof ChangedMeanwhile
          ? error.message
          : `writing the signature failed: ${osErrorInWords(error)}`;
      await rollBack(handle, journal, journalPath, editEnd, why);
    }
    // Signed only once the journal is gone: a journal left would put the original back later.
    await unlink(journalPath).catch((error: unknown) =>
      rollBack(
        handle,
        journal,
        journalPath,
        editEnd,
        `removing its journal failed: ${osErrorInWords(error)}`,
      ),
    );
  } finally {
    await handle.close();
  }
}
