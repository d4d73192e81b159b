// What `npm publish` ships: the bundle, the action metadata and the docs, never tests, benchmarks,
// samples or generated material; and it installs nothing else, because dist/ is self-contained.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { REPO } from '../test/paths.js';

interface Manifest {
  private?: boolean;
  bin: Record<string, string>;
  dependencies?: Record<string, string>;
}

const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Manifest;

describe('the npm package', () => {
  it('is publishable, has no runtime dependencies and runs dist/cli.js as vaultsign', () => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.bin).toEqual({ vaultsign: 'dist/cli.js' });
    expect(readFileSync(join(REPO, 'dist', 'cli.js'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('packs only dist/, action.yml, README.md, LICENSE and package.json', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: REPO,
        encoding: 'utf8',
      }),
    ) as { files: { path: string }[] }[];
    const paths = pack.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining(['dist/cli.js', 'dist/index.js', 'action.yml', 'README.md']),
    );
    expect(paths.filter((p) => !/^(dist\/.+|action\.yml|README\.md|LICENSE|package\.json)$/.test(p))).toEqual(
      [],
    );
  });
});
