import { execFile } from 'node:child_process';
import { mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Tmpfs {
  readonly dir: string;
  unmount(): Promise<void>;
}

/** As root directly; on a CI runner (not root) through passwordless sudo. */
function privileged(command: string, args: string[]): Promise<unknown> {
  return process.getuid?.() === 0 ? run(command, args) : run('sudo', ['-n', command, ...args]);
}

/**
 * A real, small file system of `bytes` (Linux tmpfs) that this process can write to: where a disk
 * fills up for real, short writes and ENOSPC included.
 */
export async function mountTmpfs(bytes: number): Promise<Tmpfs> {
  const dir = await mkdtemp(join(tmpdir(), 'vaultsign-tmpfs-'));
  const owner = `uid=${process.getuid!()},gid=${process.getgid!()},mode=0755`;
  await privileged('mount', ['-t', 'tmpfs', '-o', `size=${bytes},${owner}`, 'tmpfs', dir]);
  return {
    dir,
    async unmount() {
      await privileged('umount', [dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes still free on the file system holding `dir`. */
export async function freeBytes(dir: string): Promise<number> {
  const info = await statfs(dir);
  return info.bavail * info.bsize;
}

/** Fills the file system of `dir` with a file named `name` until only `leave` bytes are free. */
export async function fillUntil(dir: string, leave: number, name = 'filler'): Promise<void> {
  const free = await freeBytes(dir);
  if (free < leave) throw new Error(`only ${free} bytes free in ${dir}, ${leave} wanted`);
  await writeFile(join(dir, name), Buffer.alloc(free - leave));
}

/**
 * Whether tests that fill a tmpfs can run: Linux only, the one system with a small real file system
 * to mount (GitHub's Windows and macOS runners have none).
 */
export const tmpfsAvailable = process.platform === 'linux';
