const CHUNK = 4 << 20;
/**
 * Streams the bytes of `ranges` in order through two reused buffers: the next read runs (in libuv's
 * thread pool) while the caller digests the current chunk, and never the whole file is in memory.
 */
export async function readRanges(handle, ranges, onChunk) {
    const pieces = [];
    for (const { start, end } of ranges) {
        for (let offset = start; offset < end; offset += CHUNK)
            pieces.push({ offset, length: Math.min(CHUNK, end - offset) });
    }
    const size = Math.max(0, ...pieces.map((p) => p.length));
    const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(pieces.length > 1 ? size : 0)];
    const read = async (index) => {
        const { offset, length } = pieces[index];
        const buffer = buffers[index % 2];
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        if (bytesRead !== length)
            throw new Error(`the file changed while being read (at offset ${offset + bytesRead})`);
        return buffer.subarray(0, length);
    };
    let next = pieces.length ? read(0) : undefined;
    for (let index = 0; index < pieces.length; index++) {
        const chunk = await next;
        next = index + 1 < pieces.length ? read(index + 1) : undefined;
        await onChunk(chunk, pieces[index].offset);
    }
}
