/**
 * The PE image checksum: a 16-bit ones'-complement-style sum of all little-endian words of the file
 * (CheckSum field counted as zero), carries folded, plus the file length. Fed in file order, any chunking.
 */
export class PeChecksum {
  private sum = 0;
  private length = 0;
  /** A byte left over from a chunk of odd length: the low half of the next word. */
  private pending = -1;

  update(chunk: Uint8Array): void {
    let i = 0;
    let sum = this.sum;
    if (this.pending >= 0 && chunk.length > 0) {
      sum += this.pending | (chunk[0] << 8);
      this.pending = -1;
      i = 1;
    }
    const end = chunk.length - ((chunk.length - i) & 1);
    // Folding at the end gives the same value as folding per word; a double stays exact below 2^53.
    for (; i < end; i += 2) sum += chunk[i] | (chunk[i + 1] << 8);
    if (end < chunk.length) this.pending = chunk[end];
    this.sum = sum;
    this.length += chunk.length;
  }

  digest(): number {
    let sum = this.sum + (this.pending >= 0 ? this.pending : 0);
    while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
    return (sum + this.length) >>> 0;
  }
}
