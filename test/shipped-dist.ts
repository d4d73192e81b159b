import { createHash } from 'node:crypto';
import { chmod, cp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOnce } from './build-once.js';
import { REPO } from './paths.js';

export interface ShippedDist {
  readonly cli: string;
  readonly action: string;
}

/**
 * The committed dist/ as the runner sees it: a copy outside the repository, so the bundle cannot
 * lean on the repository's node_modules (a module left external would pass inside the repo and
 * fail for every user). Keyed by the content of every file in dist/ (a rebuild may change only a lazily
 * loaded chunk), so a rebuild gets a fresh copy.
 */
export async function shippedDist(): Promise<ShippedDist> {
  const hash = createHash('sha256');
  const files = (await readdir(join(REPO, 'dist'), { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) hash.update(file).update(await readFile(file));
  const name = `vaultsign-dist-${hash.digest('hex').slice(0, 16)}`;
  const dir = join(tmpdir(), name);
  const shipped = { cli: join(dir, 'cli.js'), action: join(dir, 'index.js') };
  await buildOnce(
    dir,
    () => [shipped.cli, shipped.action],
    async (scratch) => {
      await cp(join(REPO, 'dist'), scratch, { recursive: true });
      // Some tests run the CLI as an unprivileged user.
      await chmod(scratch, 0o755);
      await removeStaleCopies(name);
    },
  );
  return shipped;
}

/** Copies older than this belong to no running suite (other worktrees may share tmpdir with their own hash). */
const STALE_MS = 6 * 60 * 60 * 1000;

/** Removes copies of earlier dist/ builds, so each rebuild does not leave one more in the temp folder. */
async function removeStaleCopies(current: string): Promise<void> {
  for (const entry of await readdir(tmpdir())) {
    if (!entry.startsWith('vaultsign-dist-') || entry.startsWith(current)) continue;
    const path = join(tmpdir(), entry);
    const age = Date.now() - (await stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
    if (age > STALE_MS) await rm(path, { recursive: true, force: true });
  }
}
