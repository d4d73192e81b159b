import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { scratchDir } from './pe-fixtures.js';
import { REPO } from './paths.js';

/**
 * `sources` (repository paths of .ts files) as JavaScript in a scratch folder under the repository,
 * same layout, so a child process can run them with an environment of its own (jest's process.env is
 * a copy that native libraries never see, e.g. SOFTHSM2_CONF). Type-only imports vanish; every
 * module a source imports at run time must be listed too.
 */
export async function transpiled(sources: readonly string[]): Promise<string> {
  const dir = await scratchDir('transpiled');
  for (const source of sources) {
    const { outputText } = ts.transpileModule(await readFile(join(REPO, source), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    const out = join(dir, source.replace(/\.ts$/, '.js'));
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
  return dir;
}
