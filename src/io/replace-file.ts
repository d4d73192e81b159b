import { randomBytes } from 'node:crypto';
import { open, readdir, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces the file at `path` with what `write` produces. The new content goes to a temporary file in
 * the same folder, is flushed to disk, then renamed over the original in one step: a failure or a kill
 * at any moment leaves either the old file or the complete new one. Keeps the file's mode; a symlink
 * keeps pointing at the (replaced) file it named.
 */
export async function replaceFile(path: string, write: (output: FileHandle) => Promise<void>): Promise<void> {
  const target = await realpath(path);
  const { mode } = await stat(target);
  const temporary = join(
    dirname(target),
    `.${basename(target)}.vaultsign-${randomBytes(6).toString('hex')}.tmp`,
  );
  const output = await open(temporary, 'wx', mode & 0o7777);
  try {
    await write(output);
    await output.chmod(mode & 0o7777);
    await output.sync();
    await output.close();
    await rename(temporary, target);
  } catch (error) {
    await output.close().catch(() => undefined);
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncFolder(dirname(target));
}

/** Makes the rename itself durable; folders cannot be opened for that on Windows, where it is not needed. */
async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const LEFTOVER = /^\.(.+)\.vaultsign-[0-9a-f]{12}\.tmp$/;

/**
 * Removes the temporary files that a killed earlier run left beside any of `paths` (the originals were
 * never touched by them). One directory listing per folder.
 */
export async function removeLeftovers(paths: readonly string[]): Promise<string[]> {
  const names = new Map<string, Set<string>>();
  for (const path of paths) {
    const folder = dirname(path);
    if (!names.has(folder)) names.set(folder, new Set());
    names.get(folder)!.add(basename(path));
  }
  const removed: string[] = [];
  for (const [folder, bases] of names) {
    const entries = await readdir(folder).catch(() => [] as string[]);
    for (const entry of entries) {
      const match = LEFTOVER.exec(entry);
      if (match && bases.has(match[1])) {
        await unlink(join(folder, entry)).then(
          () => removed.push(join(folder, entry)),
          () => undefined,
        );
      }
    }
  }
  return removed;
}
