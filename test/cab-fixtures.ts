import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { buildOnce } from './build-once.js';
import { CACHE } from './paths.js';
import { scratchDir } from './pe-fixtures.js';

const run = promisify(execFile);

export interface CabFixture {
  readonly name: string;
  readonly path: string;
  /** The paths stored in the cabinet, as `gcab -t` lists them. */
  readonly members: readonly string[];
}

/** Deterministic bytes; `text` ones compress (for -z), the others barely. */
function content(length: number, seed: number, text = false): Buffer {
  if (text) {
    const line = `line ${seed}: the quick brown fox jumps over the lazy dog\r\n`;
    return Buffer.from(line.repeat(Math.ceil(length / line.length)).slice(0, length));
  }
  let x = seed * 2654435761 + 1;
  return Buffer.from(
    Uint8Array.from({ length }, () => {
      x = (x * 1103515245 + 12345) >>> 0;
      return x >>> 24;
    }),
  );
}

interface Recipe {
  readonly name: string;
  readonly compress: boolean;
  readonly members: readonly { readonly path: string; readonly bytes: Buffer }[];
}

/**
 * One small file; many files in folders (several CFDATA blocks, some empty and odd-sized); the same
 * compressed with MSZIP (-z); and one of 9 MiB, stored, whose data spans several of the 4 MiB chunks
 * the digest and the rewrite stream in.
 */
function recipes(): Recipe[] {
  const many = Array.from({ length: 40 }, (_, i) => ({
    path: `dir${i % 4}/file-${i}.${i % 3 ? 'bin' : 'txt'}`,
    bytes: content(i === 7 ? 0 : i * 997 + 13, i, i % 3 === 0),
  }));
  return [
    {
      name: 'one.cab',
      compress: false,
      members: [{ path: 'hello.txt', bytes: Buffer.from('hello, cabinet\n') }],
    },
    { name: 'many.cab', compress: false, members: many },
    { name: 'compressed.cab', compress: true, members: many },
    { name: 'large.cab', compress: false, members: [{ path: 'payload.bin', bytes: content(9 << 20, 99) }] },
  ];
}

function describe(dir: string): CabFixture[] {
  return recipes().map((r) => ({
    name: r.name,
    path: join(dir, r.name),
    members: r.members.map((m) => m.path),
  }));
}

async function build(dir: string): Promise<void> {
  // Fixed times: gcab stores each file's date, and the same recipe then makes the same cabinet.
  const time = new Date('2024-01-02T03:04:06Z');
  for (const recipe of recipes()) {
    const source = join(dir, `${recipe.name}.src`);
    for (const member of recipe.members) {
      const path = join(source, member.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, member.bytes);
      await utimes(path, time, time);
    }
    const paths = recipe.members.map((m) => m.path);
    await run('gcab', ['-c', ...(recipe.compress ? ['-z'] : []), join(dir, recipe.name), ...paths], {
      cwd: source,
    });
    await rm(source, { recursive: true });
  }
}

/** Builds the gcab fixtures once under .cache/cab-fixtures; concurrent callers wait for one build. */
export async function ensureCabFixtures(): Promise<CabFixture[]> {
  const dir = join(CACHE, 'cab-fixtures');
  const fixtures = describe(dir);
  await buildOnce(dir, () => fixtures.map((f) => f.path), build);
  return fixtures;
}

/** `gcab -t`: the member names, one a line. */
export async function listCab(path: string): Promise<string[]> {
  const { stdout } = await run('gcab', ['-t', path]);
  return stdout.split('\n').filter(Boolean);
}

/** `gcab -x` into a fresh folder: every extracted file's path and bytes. */
export async function extractCab(path: string): Promise<Map<string, Buffer>> {
  const dir = await scratchDir('extract');
  try {
    await run('gcab', ['-x', '-C', dir, path]);
    const files = new Map<string, Buffer>();
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) {
        const full = join(entry.parentPath, entry.name);
        files.set(relative(dir, full), await readFile(full));
      }
    }
    return files;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
