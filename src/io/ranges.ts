import type { FileHandle } from 'node:fs/promises';
import { UserError } from '../errors.js';

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

const CHUNK = 4 << 20;

/** Fills `buffer` from `offset`, or throws: a short read means the file changed under us. */
async function readExactly(handle: FileHandle, buffer: Buffer, offset: number): Promise<Buffer> {
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
  if (bytesRead !== buffer.length)
    throw new UserError(`the file changed while being read (at offset ${offset + bytesRead})`);
  return buffer;
}

/** Bytes a one-read span may hold beyond its ranges (the PE checksum and directory entry between them). */
const SMALL_GAP = 4096;

/**
 * Streams the bytes of `ranges` in the order given (an MSI stream's sectors may run backwards)
 * through two reused buffers: the next read runs (in libuv's thread pool) while the caller digests
 * the current chunk, and never the whole file is in memory.
 */
export async function readRanges(
  handle: FileHandle,
  ranges: readonly ByteRange[],
  onChunk: (chunk: Buffer, offset: number) => void | Promise<void>,
): Promise<void> {
  // Small ranges close together in file order are read at once, the few bytes between included.
  const start = ranges[0]?.start ?? 0;
  const end = ranges.at(-1)?.end ?? 0;
  const inOrder = ranges.every((range, i) => i === 0 || range.start >= ranges[i - 1].end);
  const bytes = ranges.reduce((sum, range) => sum + range.end - range.start, 0);
  if (inOrder && end - start <= CHUNK && end - start - bytes <= SMALL_GAP) {
    const span = await readExactly(handle, Buffer.allocUnsafe(end - start), start);
    for (const range of ranges)
      if (range.end > range.start)
        await onChunk(span.subarray(range.start - start, range.end - start), range.start);
    return;
  }
  const pieces: { offset: number; length: number }[] = [];
  for (const { start, end } of ranges) {
    for (let offset = start; offset < end; offset += CHUNK)
      pieces.push({ offset, length: Math.min(CHUNK, end - offset) });
  }
  const size = Math.max(0, ...pieces.map((p) => p.length));
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(pieces.length > 1 ? size : 0)];
  const read = (index: number) => {
    const { offset, length } = pieces[index];
    return readExactly(handle, buffers[index % 2].subarray(0, length), offset);
  };
  let next = pieces.length ? read(0) : undefined;
  try {
    for (let index = 0; index < pieces.length; index++) {
      const chunk = await next!;
      next = index + 1 < pieces.length ? read(index + 1) : undefined;
      await onChunk(chunk, pieces[index].offset);
    }
  } finally {
    // When onChunk throws, the read already started is waited for (its failure is the caller's error
    // already): no read in flight after this returns, and no rejection left unhandled.
    await next?.catch(() => undefined);
  }
}
