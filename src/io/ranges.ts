import type { FileHandle } from 'node:fs/promises';

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

const CHUNK = 4 << 20;
/** Ranges this close are read together, gap included: one read is cheaper than two. */
const MERGE_GAP = 4096;

/** The reads that cover `ranges` (sorted, disjoint): spans of nearby ranges, cut into chunks. */
function readsFor(ranges: readonly ByteRange[]): ByteRange[] {
  const spans: { start: number; end: number }[] = [];
  for (const { start, end } of ranges) {
    if (end <= start) continue;
    const last = spans.at(-1);
    if (last && start - last.end <= MERGE_GAP) last.end = end;
    else spans.push({ start, end });
  }
  return spans.flatMap(({ start, end }) => {
    const reads: ByteRange[] = [];
    for (let offset = start; offset < end; offset += CHUNK)
      reads.push({ start: offset, end: Math.min(end, offset + CHUNK) });
    return reads;
  });
}

/**
 * Streams the bytes of `ranges` (sorted, disjoint) in order, as (chunk, file offset) pieces that never
 * cross a range boundary, through two reused buffers: the next read runs (in libuv's thread pool) while
 * the caller digests the current chunk, and never the whole file is in memory.
 */
export async function readRanges(
  handle: FileHandle,
  ranges: readonly ByteRange[],
  onChunk: (chunk: Buffer, offset: number) => void | Promise<void>,
): Promise<void> {
  const reads = readsFor(ranges);
  const size = Math.max(0, ...reads.map((r) => r.end - r.start));
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(reads.length > 1 ? size : 0)];
  const read = async (index: number) => {
    const { start, end } = reads[index];
    const buffer = buffers[index % 2];
    const { bytesRead } = await handle.read(buffer, 0, end - start, start);
    if (bytesRead !== end - start)
      throw new Error(`the file changed while being read (at offset ${start + bytesRead})`);
    return buffer;
  };
  let next = reads.length ? read(0) : undefined;
  for (let index = 0; index < reads.length; index++) {
    const buffer = await next!;
    next = index + 1 < reads.length ? read(index + 1) : undefined;
    const { start, end } = reads[index];
    for (const range of ranges) {
      const from = Math.max(start, range.start);
      const to = Math.min(end, range.end);
      if (from < to) await onChunk(buffer.subarray(from - start, to - start), from);
    }
  }
}
