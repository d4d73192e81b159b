import type { FileHandle } from 'node:fs/promises';

/**
 * Writes all of `bytes` at `offset` (null: at the end of a file opened for appending): a short write
 * (a disk filling up) is continued, and then fails.
 */
export async function writeFully(handle: FileHandle, bytes: Buffer, offset: number | null): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    const at = offset === null ? null : offset + done;
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, at);
    if (bytesWritten <= 0) {
      throw Object.assign(new Error('the disk accepted no more bytes'), { code: 'ENOSPC' });
    }
    done += bytesWritten;
  }
}

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
