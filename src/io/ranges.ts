import type { FileHandle } from 'node:fs/promises';

export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

const CHUNK = 1 << 20;

/** Streams the bytes of `ranges` in order, through one reused buffer: never the whole file in memory. */
export async function readRanges(
  handle: FileHandle,
  ranges: readonly ByteRange[],
  onChunk: (chunk: Buffer, offset: number) => void | Promise<void>,
): Promise<void> {
  const buffer = Buffer.allocUnsafe(CHUNK);
  for (const { start, end } of ranges) {
    for (let offset = start; offset < end;) {
      const want = Math.min(CHUNK, end - offset);
      const { bytesRead } = await handle.read(buffer, 0, want, offset);
      if (bytesRead === 0) throw new Error(`the file shrank while being read (at offset ${offset})`);
      await onChunk(buffer.subarray(0, bytesRead), offset);
      offset += bytesRead;
    }
  }
}
