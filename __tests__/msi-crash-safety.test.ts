import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { copyFile, readdir, readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseNewFileName } from '../src/io/sidecar-files.js';
import { copyMsi, ensureMsiFixtures, type MsiFixture } from '../test/msi-fixtures.js';
import { osslVerify } from '../test/osslsigncode.js';
import { scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';
import { shippedDist } from '../test/shipped-dist.js';
import { fillUntil, freeBytes, mountTmpfs, tmpfsAvailable, type Tmpfs } from '../test/tmpfs.js';

let pki: TestPki;
let fixtures: MsiFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensureMsiFixtures()]);
});

const fixture = (name: string) => fixtures.find((f) => f.name === name)!;
const sidecars = async (dir: string) => (await readdir(dir)).filter((n) => n.includes('.vaultsign-'));

/** Each file is byte for byte its original, or signed so that osslsigncode verifies it. */
async function originalOrValid(files: Map<string, Buffer>): Promise<{ original: number; signed: number }> {
  const counts = { original: 0, signed: 0 };
  for (const [file, original] of files) {
    if ((await readFile(file)).equals(original)) {
      counts.original++;
      continue;
    }
    const verdict = await osslVerify(file, pki.rootCa);
    expect({ file, ok: verdict.ok }).toEqual({ file, ok: true });
    counts.signed++;
  }
  return counts;
}

(tmpfsAvailable ? describe : describe.skip)('signing MSIs on a disk that fills up', () => {
  let disk: Tmpfs;
  beforeAll(async () => {
    disk = await mountTmpfs(24 << 20);
  });
  afterAll(() => disk?.unmount());

  it('leaves each file original or signed, and no new file behind', async () => {
    // Two 8 MB packages and two small ones, with 1 MB free: the small ones fit beside themselves, the large ones do not.
    const files = new Map<string, Buffer>();
    for (const [name, source] of [
      ['a.msi', 'payload.msi'],
      ['b.msi', 'tiny.msi'],
      ['c.msi', 'payload.msi'],
      ['d.msm', 'module.msm'],
    ]) {
      const path = await copyMsi(fixture(source), disk.dir, name);
      files.set(path, await readFile(path));
    }
    await fillUntil(disk.dir, 1 << 20);
    const free = await freeBytes(disk.dir);

    // One at a time: a large file's failing write must not take the room a small one is written into.
    const result = await runCli([
      'sign',
      ...keyFlags(pki),
      '--timestamp-rfc3161',
      'none',
      '--concurrency',
      '1',
      ...files.keys(),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('2 signed, 0 skipped, 2 failed');
    const failures = result.stderr.split('\n').filter((l) => l.startsWith('failed'));
    expect(failures).toHaveLength(2);
    for (const line of failures) {
      expect(line).toMatch(
        /[ac]\.msi: writing the signed file failed: the disk is full \(ENOSPC\); not signed, unchanged/,
      );
    }
    expect(await originalOrValid(files)).toEqual({ original: 2, signed: 2 });
    expect(await sidecars(disk.dir)).toEqual([]);
    // The failed new files are gone: the disk has its room back, less the two small signatures.
    expect(await freeBytes(disk.dir)).toBeGreaterThan(free - (64 << 10));
  });
});

describe('a kill while MSIs are rewritten', () => {
  it('leaves each file original or signed; the next run removes left new files and signs the rest', async () => {
    const FILES = 12;
    const KILLS = 6;
    const MAX_KILLS = 30;
    const dir = await scratchDir('msi-crash');
    const source = fixture('payload.msi');
    const pristine = await readFile(source.path);
    const files = new Map<string, Buffer>();
    for (let i = 0; i < FILES; i++) files.set(await copyMsi(source, dir, `f${i}.msi`), pristine);
    const args = ['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none', '--skip-signed', ...files.keys()];
    const { cli } = await shippedDist();

    let signedAtSomeKill = 0;
    let newFilesLeft = 0;
    let kills = 0;
    for (let round = 0; round < MAX_KILLS && (round < KILLS || newFilesLeft === 0); round++) {
      const pending = await Promise.all(
        [...files.keys()].map(async (f) => (await readFile(f)).equals(pristine)),
      );
      if (!pending.includes(true)) await Promise.all([...files.keys()].map((f) => copyFile(source.path, f)));
      const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      if (round % 2 === 0) {
        // Even rounds: kill the moment a new file is being written.
        await new Promise<void>((resolve) => {
          const watcher = watch(dir, (_event, name) => {
            if (name && parseNewFileName(name.toString())) done();
          });
          const done = () => {
            watcher.close();
            resolve();
          };
          void exited.then(done);
        });
      } else {
        // Odd rounds: once this round has replaced a file, after a random moment more.
        const replaced = async () =>
          (await Promise.all([...files.keys()].map((f) => stat(f)))).some(
            (info) => info.size !== pristine.length,
          );
        for (let waited = 0; waited < 20_000 && !(await replaced()); waited += 10) {
          await new Promise((r) => setTimeout(r, 10));
        }
        await new Promise((r) => setTimeout(r, Math.random() * 100));
      }
      child.kill('SIGKILL');
      kills++;
      await exited;
      newFilesLeft += (await readdir(dir)).filter((name) => parseNewFileName(name)).length;
      signedAtSomeKill += (await originalOrValid(files)).signed;
    }
    console.log(
      `kills: ${kills}, files signed at a kill: ${signedAtSomeKill}, new files left: ${newFilesLeft}`,
    );
    // Kills caught a new file half written (the next run had to clear it), and runs that had signed some files.
    expect(newFilesLeft).toBeGreaterThan(0);
    expect(signedAtSomeKill).toBeGreaterThan(0);

    const finish = await runCli(args);
    expect({ code: finish.code, output: finish.code ? finish.stdout + finish.stderr : '' }).toEqual({
      code: 0,
      output: '',
    });
    expect(await originalOrValid(files)).toEqual({ original: 0, signed: FILES });
    expect(await sidecars(dir)).toEqual([]);
  });
});
