import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Holds `<dir>.lock` (naming our pid) while `work` runs; a lock left by a dead process is taken over. */
async function withLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lock = `${dir}.lock`;
  // Linking a finished file into place takes the lock atomically, so a lock never lacks its pid.
  const claim = `${lock}.${process.pid}.${randomUUID()}`;
  await writeFile(claim, String(process.pid));
  try {
    for (;;) {
      try {
        await link(claim, lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = Number(await readFile(lock, 'utf8').catch(() => '0'));
        if (owner && !isRunning(owner)) await rm(lock, { force: true });
        else await sleep(100);
      }
    }
  } finally {
    await rm(claim, { force: true });
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

/**
 * Makes `dir` hold what `build` writes, unless every file in `expected` is already there.
 * Jest workers may ask at the same moment: one builds under a lock, in a scratch folder renamed
 * into place, so nobody sees a half-built folder; the others wait and reuse it.
 */
export async function buildOnce(
  dir: string,
  expected: () => string[],
  build: (scratch: string) => Promise<void>,
): Promise<void> {
  const complete = () => expected().every((file) => existsSync(file));
  if (complete()) return;
  await mkdir(dirname(dir), { recursive: true });
  await withLock(dir, async () => {
    if (complete()) return;
    // An older layout lacks newer files: rebuild it whole.
    await rm(dir, { recursive: true, force: true });
    const scratch = await mkdtemp(join(dirname(dir), `${basename(dir)}-`));
    try {
      await build(scratch);
      await rename(scratch, dir);
    } catch (error) {
      await rm(scratch, { recursive: true, force: true });
      throw error;
    }
  });
}
