import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { appendFile, copyFile, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { recoverFile, writeJournal } from '../src/io/journal.js';
import { hostTag } from '../src/io/run-owner.js';
import { parseJournalName } from '../src/io/sidecar-files.js';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';
import { shippedDist } from '../test/shipped-dist.js';

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

const FILES = 60;
const KILLS = 6;
/** Past KILLS, kills aim at the edit itself (the moment a journal appears) until some catch one. */
const MAX_KILLS = 40;

/** Resolves when a complete journal appears in `dir`, or when `exited` does. */
function journalAppears(dir: string, exited: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dir, (_event, name) => {
      const journal = name ? parseJournalName(name.toString()) : undefined;
      if (journal && !journal.unfinished) done();
    });
    const done = () => {
      watcher.close();
      resolve();
    };
    void exited.then(done);
  });
}

/** The pid of a process that has ended: its journals' owner is gone. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('a kill at any moment', () => {
  it('leaves every file untouched, fully signed, or journaled; the next run restores and signs the rest', async () => {
    const dir = await scratchDir('crash');
    const original = join(dir, 'original.exe');
    await copyFixture(
      fixtures.find((f) => f.name === 'pe64.exe')!,
      dir,
      'original.exe',
    );
    // Big enough that a kill lands mid-write often.
    await appendFile(original, Buffer.alloc(6 << 20, 0x5a));
    const pristine = await readFile(original);
    const files: string[] = [];
    for (let i = 0; i < FILES; i++)
      files.push(await copyFixture({ ...fixtures[0], path: original }, dir, `f${i}.exe`));
    const args = ['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none', '--skip-signed', ...files];

    const { cli } = await shippedDist();
    let signedAtSomeKill = 0;
    let journaledAtSomeKill = 0;
    let kills = 0;
    for (let round = 0; round < MAX_KILLS && (round < KILLS || journaledAtSomeKill === 0); round++) {
      const pending = await Promise.all(files.map(async (f) => (await readFile(f)).equals(pristine)));
      // All signed: start over from the original, so later kills still land mid-run.
      if (!pending.includes(true)) await Promise.all(files.map((f) => copyFile(original, f)));
      const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
      // Listened for at once: a run may end on its own before the kill.
      const exited = new Promise((r) => child.once('exit', r));
      if (round < KILLS) {
        // Kill mid-run: once this round has written its first file, after a random moment more.
        const sizes = async () =>
          (await Promise.all(files.map((f) => stat(f)))).reduce((sum, s) => sum + s.size, 0);
        const start = await sizes();
        for (let waited = 0; waited < 20_000 && (await sizes()) === start; waited += 10) {
          await new Promise((r) => setTimeout(r, 10));
        }
        await new Promise((r) => setTimeout(r, Math.random() * 100));
      } else {
        await journalAppears(dir, exited);
      }
      child.kill('SIGKILL');
      kills++;
      await exited;
      const journaled = new Set(
        (await readdir(dir))
          .map((name) => parseJournalName(name))
          .flatMap((j) => (j && !j.unfinished ? [j.file] : [])),
      );
      journaledAtSomeKill += journaled.size;
      for (const file of files) {
        const bytes = await readFile(file);
        if (bytes.equals(pristine)) continue;
        // Mid-edit files carry a journal; the next run puts them back.
        if (journaled.has(basename(file))) continue;
        const verdict = await osslVerify(file, pki.rootCa);
        expect({ file, ok: verdict.ok }).toEqual({ file, ok: true });
        signedAtSomeKill++;
      }
    }
    console.log(
      `kills: ${kills}, files signed at a kill: ${signedAtSomeKill}, journals left: ${journaledAtSomeKill}`,
    );
    expect(signedAtSomeKill).toBeGreaterThan(0);
    // Recovery really ran: some kills caught a file mid-edit, and the next run had its journal to apply.
    expect(journaledAtSomeKill).toBeGreaterThan(0);

    // A journal that was never completed (killed while writing it): the next run drops it.
    await writeFile(join(dir, `.f0.exe.vaultsign-journal-${await deadPid()}-${hostTag}.tmp`), '{"length":');
    const finish = await runCli(args);
    expect(finish.code).toBe(0);
    for (const file of files) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
    expect((await readdir(dir)).filter((name) => name.includes('.vaultsign-'))).toEqual([]);
  });
});

describe('journal recovery', () => {
  it('puts a file back exactly from its journal, whatever the edit had done', async () => {
    const dir = await scratchDir('journal');
    const file = await copyFixture(
      fixtures.find((f) => f.name === 'pe32-overlay1001.dll')!,
      dir,
    );
    const original = await readFile(file);
    const edit = {
      patches: [{ offset: 0x90, bytes: Buffer.alloc(8, 0xee) }],
      truncateTo: original.length - 500,
      append: Buffer.alloc(3000, 0xcc),
    };
    const handle = await open(file, 'r+');
    const { journalPath } = await writeJournal(file, handle, edit);
    // A kill halfway: patched, cut, and only part of the new tail written.
    await handle.write(edit.patches[0].bytes, 0, 8, 0x90);
    await handle.truncate(edit.truncateTo);
    await handle.write(edit.append, 0, 1000, edit.truncateTo);
    await handle.close();
    expect((await readFile(file)).equals(original)).toBe(false);

    expect(await recoverFile(file, [journalPath])).toBe(true);
    expect((await readFile(file)).equals(original)).toBe(true);
    expect((await readdir(dir)).filter((n) => n.includes('journal'))).toEqual([]);
  });
});
