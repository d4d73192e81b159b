import { execFile } from 'node:child_process';
import { appendFile, copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildOnce } from './build-once.js';
import { CACHE, REPO } from './paths.js';

const run = promisify(execFile);

export interface PeFixture {
  readonly name: string;
  readonly path: string;
  readonly bits: 32 | 64;
  readonly kind: 'exe' | 'dll';
  /** Bytes appended after the last section (installer-style payload). */
  readonly overlay: number;
}

const COMPILERS = { 32: 'i686-w64-mingw32-gcc', 64: 'x86_64-w64-mingw32-gcc' } as const;
const SOURCES = { exe: 'hello.c', dll: 'library.c' } as const;
/**
 * None, an 8-aligned payload, and one of odd length. mingw-w64 images are whole 512-byte file-alignment
 * blocks, so the 1001-byte overlay is what gives files whose length is not a multiple of 8 (the
 * unsigned-file padding case).
 */
const OVERLAYS = [0, 4096, 1001];

function overlayBytes(length: number): Buffer {
  return Buffer.from(Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff));
}

function describe(dir: string): PeFixture[] {
  const fixtures: PeFixture[] = [];
  for (const bits of [32, 64] as const) {
    for (const kind of ['exe', 'dll'] as const) {
      for (const overlay of OVERLAYS) {
        const name = `pe${bits}${overlay ? `-overlay${overlay}` : ''}.${kind}`;
        fixtures.push({ name, path: join(dir, name), bits, kind, overlay });
      }
    }
  }
  return fixtures;
}

async function build(dir: string): Promise<void> {
  for (const bits of [32, 64] as const) {
    for (const kind of ['exe', 'dll'] as const) {
      const plain = join(dir, `pe${bits}.${kind}`);
      const shared = kind === 'dll' ? ['-shared'] : [];
      await run(COMPILERS[bits], [
        '-s',
        '-O2',
        ...shared,
        '-o',
        plain,
        join(REPO, 'test', 'fixtures-src', SOURCES[kind]),
      ]);
      for (const overlay of OVERLAYS.filter(Boolean)) {
        const withOverlay = join(dir, `pe${bits}-overlay${overlay}.${kind}`);
        await copyFile(plain, withOverlay);
        await appendFile(withOverlay, overlayBytes(overlay));
      }
    }
  }
}

/** Builds the mingw-w64 fixtures once under .cache/fixtures; concurrent callers wait for one build. */
export async function ensurePeFixtures(): Promise<PeFixture[]> {
  const dir = join(CACHE, 'fixtures');
  const fixtures = describe(dir);
  await buildOnce(dir, () => fixtures.map((f) => f.path), build);
  return fixtures;
}

/** A fresh copy of a fixture in `dir`: tests only ever change copies. */
export async function copyFixture(fixture: PeFixture, dir: string, name = fixture.name): Promise<string> {
  const path = join(dir, name);
  await copyFile(fixture.path, path);
  return path;
}

export async function scratchDir(label: string): Promise<string> {
  await mkdir(join(CACHE, 'work'), { recursive: true });
  return mkdtemp(join(CACHE, 'work', `${label}-`));
}

/** A folder of mingw-built dlls and exes, as a build would leave it (no overlay variants but one). */
export async function buildOutput(
  fixtures: readonly PeFixture[],
  label: string,
): Promise<{ dir: string; files: string[] }> {
  const dir = await scratchDir(label);
  const files = await Promise.all(
    fixtures.filter((f) => !f.overlay || f.overlay === 1001).map((f) => copyFixture(f, dir)),
  );
  return { dir, files };
}
