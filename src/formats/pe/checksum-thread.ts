import { Worker } from 'node:worker_threads';
import type { ByteRange } from '../../io/ranges.js';
import { PeChecksum } from './checksum.js';

/** From this size on, summing on a second core beats the thread's start-up (a few ms). */
export const CHECKSUM_THREAD_MIN_BYTES = 32 << 20;

// The thread runs PeChecksum's own source: one implementation, and no second file for the bundler.
// It reads the file itself (positional reads on the same descriptor), so nothing is copied across.
const threadSource = (checksumClass: string) => `
const { parentPort, workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const PeChecksum = (${checksumClass});
const { fd, ranges, chunkBytes } = workerData;
const checksum = new PeChecksum();
const buffer = Buffer.allocUnsafe(chunkBytes);
let at = 0;
for (const { start, end } of ranges) {
  checksum.update(new Uint8Array(start - at));
  for (let offset = start; offset < end; ) {
    const read = readSync(fd, buffer, 0, Math.min(chunkBytes, end - offset), offset);
    if (read === 0) throw new Error('the file changed while being read (at offset ' + offset + ')');
    checksum.update(buffer.subarray(0, read));
    offset += read;
  }
  at = end;
}
parentPort.postMessage({ ...checksum });
`;

export interface ChecksumThread {
  readonly result: Promise<PeChecksum>;
  /** Ends the thread and waits until it no longer reads the file (before its descriptor is closed). */
  stop(): Promise<void>;
}

/**
 * The PE checksum of `ranges` of the open file `fd` (gaps count as zero bytes), summed on another
 * thread while the caller hashes the same bytes: for large files the two together then take as long
 * as the hash alone.
 */
export function checksumOnThread(fd: number, ranges: readonly ByteRange[]): ChecksumThread {
  const worker = new Worker(threadSource(PeChecksum.toString()), {
    eval: true,
    workerData: { fd, ranges, chunkBytes: 1 << 20 },
  });
  const result = new Promise<PeChecksum>((resolve, reject) => {
    worker.once('message', (state: object) => resolve(Object.assign(new PeChecksum(), state)));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the checksum thread stopped (exit code ${code})`)));
  });
  // A stopped thread's result is nobody's concern any more.
  result.catch(() => undefined);
  return {
    result,
    async stop() {
      await worker.terminate();
    },
  };
}
