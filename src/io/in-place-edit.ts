import { open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A change to a file that keeps most of it: patch some bytes, cut the tail, append new bytes. */
export interface FileEdit {
  readonly patches: readonly { readonly offset: number; readonly bytes: Buffer }[];
  /** The file is cut here, then `append` is written from here on. */
  readonly truncateTo: number;
  readonly append: Buffer;
}

/**
 * What a journal holds: enough of the original file to put it back exactly. Written (and flushed)
 * before the file is touched, removed once the edit is on disk.
 */
interface Journal {
  readonly length: number;
  readonly tailAt: number;
  readonly tail: string;
  readonly patches: { readonly offset: number; readonly bytes: string }[];
}

const journalName = (path: string) => join(dirname(path), `.${basename(path)}.vaultsign-journal`);
const JOURNAL = /^\.(.+)\.vaultsign-journal$/;

async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return; // folders cannot be opened for flushing there, nor need it
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeDurably(path: string, data: string | Buffer): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Saves what `edit` will overwrite, flushed and under its final name, before anything is touched.
 * The handle must be open on `path`.
 */
export async function writeJournal(path: string, handle: FileHandle, edit: FileEdit): Promise<string> {
  const { size } = await handle.stat();
  const read = async (offset: number, length: number) => {
    const buffer = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
    // An unsigned file has no tail to keep: no read for it.
    if (buffer.length > 0) await handle.read(buffer, 0, buffer.length, offset);
    return buffer;
  };
  const journal: Journal = {
    length: size,
    tailAt: edit.truncateTo,
    tail: (await read(edit.truncateTo, size - edit.truncateTo)).toString('base64'),
    patches: await Promise.all(
      edit.patches.map(async (p) => ({
        offset: p.offset,
        bytes: (await read(p.offset, p.bytes.length)).toString('base64'),
      })),
    ),
  };
  const target = journalName(path);
  await writeDurably(`${target}.tmp`, JSON.stringify(journal));
  await rename(`${target}.tmp`, target);
  await syncFolder(dirname(path));
  return target;
}

/**
 * Applies `edit` in place, without copying the file: a multi-GB installer costs a few KB of writes.
 * Crash safety comes from the journal: a kill at any moment leaves the file untouched, fully edited,
 * or with a journal that `recoverJournals` (run before every signing run) uses to restore it.
 */
export async function applyEdit(path: string, edit: FileEdit): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const journal = await writeJournal(path, handle, edit);
    for (const { offset, bytes } of edit.patches) await handle.write(bytes, 0, bytes.length, offset);
    await handle.truncate(edit.truncateTo);
    await handle.write(edit.append, 0, edit.append.length, edit.truncateTo);
    await handle.sync();
    await unlink(journal);
  } finally {
    await handle.close();
  }
}

async function restore(path: string, journal: Journal): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const tail = Buffer.from(journal.tail, 'base64');
    await handle.truncate(journal.tailAt);
    await handle.write(tail, 0, tail.length, journal.tailAt);
    await handle.truncate(journal.length);
    for (const patch of journal.patches) {
      const bytes = Buffer.from(patch.bytes, 'base64');
      await handle.write(bytes, 0, bytes.length, patch.offset);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Puts back every file among `paths` that a killed run left mid-edit, and removes journals that never
 * became complete (the file was not touched then). One folder listing per folder. Returns the restored files.
 */
export async function recoverJournals(paths: readonly string[]): Promise<string[]> {
  const byFolder = new Map<string, Set<string>>();
  for (const path of paths) {
    const folder = dirname(path);
    if (!byFolder.has(folder)) byFolder.set(folder, new Set());
    byFolder.get(folder)!.add(basename(path));
  }
  const restored: string[] = [];
  for (const [folder, names] of byFolder) {
    for (const entry of await readdir(folder).catch(() => [] as string[])) {
      const unfinished = entry.endsWith('.vaultsign-journal.tmp');
      const match = JOURNAL.exec(unfinished ? entry.slice(0, -4) : entry);
      if (!match || !names.has(match[1])) continue;
      const journalPath = join(folder, entry);
      if (!unfinished) {
        await restore(join(folder, match[1]), JSON.parse(await readFile(journalPath, 'utf8')) as Journal);
        restored.push(join(folder, match[1]));
      }
      await unlink(journalPath);
    }
  }
  return restored;
}
