/** A named byte range of a file that a fuzzer aims at. */
export interface Region {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/**
 * One seeded mutation inside one of `regions` (each with room for a 4-byte write): a flipped bit, a
 * byte, a boundary or shifted 32-bit value (shifted by one of `steps`), a 16-bit value, a cut tail or
 * appended bytes. `what` names it, to reproduce a finding.
 */
export function mutate(
  base: Buffer,
  regions: readonly Region[],
  next: () => number,
  steps: readonly number[],
): { bytes: Buffer; what: string } {
  const pick = (n: number) => Math.floor(next() * n);
  const region = regions[pick(regions.length)];
  let bytes = Buffer.from(base);
  const at = region.start + pick(Math.max(1, region.end - region.start - 3));
  const kind = pick(7);
  switch (kind) {
    case 0:
      bytes[at] ^= 1 << pick(8);
      break;
    case 1:
      bytes[at] = pick(256);
      break;
    case 2:
      bytes.writeUInt32LE([0, 1, 0x7fffffff, 0xffffffff, bytes.length, bytes.length + 8][pick(6)], at);
      break;
    case 3:
      bytes.writeUInt32LE((bytes.readUInt32LE(at) + steps[pick(steps.length)]) >>> 0, at);
      break;
    case 4:
      bytes.writeUInt16LE(pick(65536), at);
      break;
    case 5:
      bytes = bytes.subarray(0, Math.max(1, bytes.length - 1 - pick(600)));
      break;
    default:
      bytes = Buffer.concat([bytes, Buffer.alloc(1 + pick(16), pick(256))]);
      break;
  }
  return { bytes, what: `${region.name} op${kind} @${at}` };
}
