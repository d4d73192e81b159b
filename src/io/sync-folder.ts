import { closeSync, openSync } from 'node:fs';
import { flushToDisk } from './exact-io.js';

/** Flushes a folder's entries (a new, renamed or removed name) to disk. */
export async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return; // folders cannot be opened for flushing there, nor need it
  const fd = openSync(folder, 'r');
  try {
    await flushToDisk(fd);
  } finally {
    closeSync(fd);
  }
}
