import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE, REPO } from './paths.js';
const run = promisify(execFile);
const COMPILERS = { 32: 'i686-w64-mingw32-gcc', 64: 'x86_64-w64-mingw32-gcc' };
const SOURCES = { exe: 'hello.c', dll: 'library.c' };
/** None, an 8-aligned payload, and one of odd length (the file then needs padding before its signature). */
const OVERLAYS = [0, 4096, 1001];
function overlayBytes(length) {
    return Buffer.from(Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff));
}
function describe(dir) {
    const fixtures = [];
    for (const bits of [32, 64]) {
        for (const kind of ['exe', 'dll']) {
            for (const overlay of OVERLAYS) {
                const name = `pe${bits}${overlay ? `-overlay${overlay}` : ''}.${kind}`;
                fixtures.push({ name, path: join(dir, name), bits, kind, overlay });
            }
        }
    }
    return fixtures;
}
async function build(dir) {
    for (const bits of [32, 64]) {
        for (const kind of ['exe', 'dll']) {
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
/** Builds the mingw-w64 fixtures once under .cache/fixtures (scratch folder renamed into place). */
export async function ensurePeFixtures() {
    const dir = join(CACHE, 'fixtures');
    if (!existsSync(dir)) {
        await mkdir(CACHE, { recursive: true });
        const scratch = await mkdtemp(join(CACHE, 'fixtures-'));
        await build(scratch);
        await rename(scratch, dir).catch(async () => rm(scratch, { recursive: true, force: true }));
    }
    return describe(dir);
}
/** A fresh copy of a fixture in `dir`: tests only ever change copies. */
export async function copyFixture(fixture, dir, name = fixture.name) {
    const path = join(dir, name);
    await copyFile(fixture.path, path);
    return path;
}
export async function scratchDir(label) {
    await mkdir(join(CACHE, 'work'), { recursive: true });
    return mkdtemp(join(CACHE, 'work', `${label}-`));
}
