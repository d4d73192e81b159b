import { open } from 'node:fs/promises';

/** Flushes a folder's entries (a new, renamed or removed name) to disk. */
export async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return; // folders cannot be opened for flushing there, nor need it
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
