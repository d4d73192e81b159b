import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

// A thread's whole program: PKCS#1 v1.5 private-key "encryption" of a DigestInfo (see rsaSignDigest).
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const { constants, privateEncrypt } = require('node:crypto');
parentPort.on('message', ({ id, digestInfo }) => {
  try {
    const signature = privateEncrypt({ key: workerData.key, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
    parentPort.postMessage({ id, signature });
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  }
});
`;

interface Pending {
  resolve(signature: Buffer): void;
  reject(error: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
}

/**
 * RSA private-key operations on the other cores (about 3 ms each at 3072 bits), so that signing many
 * small files does not wait on one thread. Threads keep the process alive only while a signature is
 * pending.
 */
export class RsaThreads {
  private readonly threads: (Thread | undefined)[] = [];
  private calls = 0;

  constructor(
    private readonly key: KeyObject,
    private readonly count = Math.max(1, availableParallelism() - 1),
  ) {
    // One thread starts now, while the first files are read and digested: a thread takes tens of
    // milliseconds to start, which a run of one large file would otherwise wait for.
    this.thread(0);
  }

  sign(digestInfo: Buffer): Promise<Buffer> {
    const id = this.calls++;
    const { worker, pending } = this.thread(id % this.count);
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, digestInfo });
    });
  }

  private thread(index: number): Thread {
    const existing = this.threads[index];
    if (existing) return existing;
    const worker = new Worker(PROGRAM, { eval: true, workerData: { key: this.key } });
    const pending = new Map<number, Pending>();
    worker.on(
      'message',
      ({ id, signature, error }: { id: number; signature?: Uint8Array; error?: string }) => {
        const call = pending.get(id)!;
        pending.delete(id);
        if (pending.size === 0) worker.unref();
        if (signature) call.resolve(Buffer.from(signature));
        else call.reject(new Error(`RSA signing failed: ${error}`));
      },
    );
    const stopped = (error: Error) => {
      // 'exit' follows 'error': by then a new thread may hold the slot.
      if (this.threads[index] === thread) this.threads[index] = undefined;
      for (const call of pending.values()) call.reject(error);
      pending.clear();
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`the RSA signing thread stopped (exit code ${code})`)));
    worker.unref();
    const thread = { worker, pending };
    this.threads[index] = thread;
    return thread;
  }
}
