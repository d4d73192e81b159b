/**
 * The PE image checksum: a 16-bit ones'-complement-style sum of all little-endian words of the file
 * (CheckSum field counted as zero), carries folded, plus the file length. Fed in file order, any chunking.
 */
export class PeChecksum {
    sum = 0;
    length = 0;
    /** A byte left over from a chunk of odd length: the low half of the next word. */
    pending = -1;
    update(chunk) {
        let i = 0;
        let sum = this.sum;
        if (this.pending >= 0 && chunk.length > 0) {
            sum += this.pending | (chunk[0] << 8);
            this.pending = -1;
            i = 1;
        }
        // The hot loop reads 32-bit words (two 16-bit words each) where the bytes are 4-aligned in memory.
        // Folding at the end gives the same value as folding per word; a double stays exact below 2^53.
        while (i < chunk.length && (chunk.byteOffset + i) % 4 !== 0 && i + 1 < chunk.length) {
            sum += chunk[i] | (chunk[i + 1] << 8);
            i += 2;
        }
        if ((chunk.byteOffset + i) % 4 === 0) {
            const words = (chunk.length - i) >>> 2;
            const view = new Uint32Array(chunk.buffer, chunk.byteOffset + i, words);
            for (let w = 0; w < words; w++) {
                const word = view[w];
                sum += (word & 0xffff) + (word >>> 16);
            }
            i += words * 4;
        }
        for (; i + 1 < chunk.length; i += 2)
            sum += chunk[i] | (chunk[i + 1] << 8);
        if (i < chunk.length)
            this.pending = chunk[i];
        this.sum = sum;
        this.length += chunk.length;
    }
    /** Counts `bytes` written at file offset `at` over bytes that were counted as zero. */
    addAt(at, bytes) {
        for (let i = 0; i < bytes.length; i++)
            this.sum += bytes[i] << (((at + i) & 1) * 8);
    }
    copy() {
        return Object.assign(new PeChecksum(), this);
    }
    digest() {
        let sum = this.sum + (this.pending >= 0 ? this.pending : 0);
        while (sum > 0xffff)
            sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
        return (sum + this.length) >>> 0;
    }
}
