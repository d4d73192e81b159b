import { createHash } from 'node:crypto';
import { chmod, cp, readdir, readFile } from 'node:fs/promises';
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
  const dir = join(tmpdir(), `vaultsign-dist-${hash.digest('hex').slice(0, 16)}`);
  const shipped = { cli: join(dir, 'cli.js'), action: join(dir, 'index.js') };
  await buildOnce(
    dir,
    () => [shipped.cli, shipped.action],
    async (scratch) => {
      await cp(join(REPO, 'dist'), scratch, { recursive: true });
      // Some tests run the CLI as an unprivileged user.
      await chmod(scratch, 0o755);
    },
  );
  return shipped;
}
