import { closeSync, fsync, openSync, unlinkSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

const diskFull = () => Object.assign(new Error('the disk accepted no more bytes'), { code: 'ENOSPC' });

/**
 * Writes all of `bytes` at `offset` (null: at the end of a file opened for appending): a short write
 * (a disk filling up) is continued, and then fails.
 */
export async function writeFully(handle: FileHandle, bytes: Buffer, offset: number | null): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const at = offset === null ? null : offset + done;
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, at);
    if (bytesWritten <= 0) throw diskFull();
    done += bytesWritten;
  }
}

/**
 * `writeFully` for a few KB (locks, journals, signatures) through a descriptor, without a trip through
 * libuv's thread pool: such a write takes microseconds, the trip costs more than the write.
 */
export function writeFullySync(fd: number, bytes: Buffer, offset: number | null): void {
  let done = 0;
  while (done < bytes.length) {
    const written = writeSync(fd, bytes, done, bytes.length - done, offset === null ? null : offset + done);
    if (written <= 0) throw diskFull();
    done += written;
  }
}

/** Flushes a descriptor to disk: milliseconds, so in the thread pool. */
export const flushToDisk: (fd: number) => Promise<void> = promisify(fsync);

/** Reads exactly `length` bytes at `offset`, or undefined when the file ends first. */
export async function readFully(
  handle: FileHandle,
  length: number,
  offset: number,
): Promise<Buffer | undefined> {
  const buffer = Buffer.alloc(length);
  for (let done = 0; done < length;) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) return undefined;
    done += bytesRead;
  }
  return buffer;
}

/** Runs a clean-up step whose own failure must not hide the error being handled. */
export function ignoreFailure(action: () => void): void {
  try {
    action();
  } catch {
    // The error reported is the one that called for the clean-up.
  }
}

/**
 * Creates `path` (failing with EEXIST if it exists) holding `data`, flushed to disk with `flush`; a
 * failure leaves no file behind. For the few bytes of a lock or journal.
 */
export async function writeNewFile(path: string, data: Buffer, { flush = false } = {}): Promise<void> {
  const fd = openSync(path, 'wx');
  try {
    writeFullySync(fd, data, 0);
    if (flush) await flushToDisk(fd);
  } catch (error) {
    ignoreFailure(() => closeSync(fd));
    ignoreFailure(() => unlinkSync(path));
    throw error;
  }
  closeSync(fd);
}
