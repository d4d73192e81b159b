import { spawn } from 'node:child_process';
import { appendFile, open, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { findFiles } from '../src/discovery/find-files.js';
import { isRewrite } from '../src/formats/format.js';
import { openSignable } from '../src/formats/open-file.js';
import { lockFile, removeLeftTakeovers } from '../src/io/file-lock.js';
import { applyEdit, type FileEdit } from '../src/io/in-place-edit.js';
import { recoverFile, restoreFromJournal, writeJournal } from '../src/io/journal.js';
import { hostTag } from '../src/io/run-owner.js';
import { lockPathOf, takeoverPathOf } from '../src/io/sidecar-files.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { fillUntil, freeBytes, mountTmpfs, tmpfsAvailable, type Tmpfs } from '../test/tmpfs.js';

let fixtures: PeFixture[];
beforeAll(async () => {
  fixtures = await ensurePeFixtures();
});

const PAGE = 4096;
const sidecars = async (dir: string) => (await readdir(dir)).filter((n) => n.includes('.vaultsign-'));

/** Opens a copy of a fixture in `dir` and makes the edit that embeds `signature` (any bytes serve). */
async function prepare(dir: string, signature: Buffer) {
  const path = await copyFixture(
    fixtures.find((f) => f.name === 'pe32.dll')!,
    dir,
    `f${Math.random()}.dll`,
  );
  const original = await readFile(path);
  const opened = await openSignable(path);
  const edit = (await opened.file.signatureEdit(signature)) as FileEdit;
  await opened.close();
  expect(isRewrite(edit)).toBe(false); // a PE is edited in place
  return { path, original, edit, state: opened.state };
}

(tmpfsAvailable ? describe : describe.skip)('applyEdit on a disk that fills up', () => {
  let disk: Tmpfs;
  beforeAll(async () => {
    disk = await mountTmpfs(1 << 20);
  });
  afterAll(() => disk?.unmount());
  beforeEach(async () => {
    for (const name of await readdir(disk.dir)) await rm(join(disk.dir, name));
  });

  it('puts the file back from its journal when the signature does not fit', async () => {
    const { path, original, edit, state } = await prepare(disk.dir, Buffer.alloc(40_000, 0x30));
    // Room for the journal, not for the 40 KB table: the write comes up short, then fails.
    await fillUntil(disk.dir, 2 * PAGE);
    expect(await freeBytes(disk.dir)).toBe(2 * PAGE);
    await expect(applyEdit(path, edit, state)).rejects.toThrow(
      /^writing the signature failed: the disk is full \(ENOSPC\); not signed, unchanged$/,
    );
    expect((await readFile(path)).equals(original)).toBe(true);
    expect(await sidecars(disk.dir)).toEqual([]);
    expect(await freeBytes(disk.dir)).toBe(2 * PAGE);
  });

  it('leaves the file untouched when the journal itself does not fit', async () => {
    const { path, original, edit, state } = await prepare(disk.dir, Buffer.alloc(100, 0x30));
    await fillUntil(disk.dir, 0);
    await expect(applyEdit(path, edit, state)).rejects.toThrow(
      /^writing its journal failed: the disk is full \(ENOSPC\); not signed, unchanged$/,
    );
    expect((await readFile(path)).equals(original)).toBe(true);
    expect(await sidecars(disk.dir)).toEqual([]);
  });
});

describe('applyEdit on a file that changed since it was opened', () => {
  it('refuses it and keeps every byte written meanwhile', async () => {
    const dir = await scratchDir('edit-grown');
    const { path, original, edit, state } = await prepare(dir, Buffer.alloc(3000, 0x30));
    const appended = Buffer.alloc(5000, 0x61);
    await appendFile(path, appended);
    await expect(applyEdit(path, edit, state)).rejects.toThrow(
      /^changed while being signed \(its size went from \d+ to \d+ bytes\); not signed, unchanged/,
    );
    expect((await readFile(path)).equals(Buffer.concat([original, appended]))).toBe(true);
    expect(await sidecars(dir)).toEqual([]);
  });

  it('refuses a file replaced by another one of the same size', async () => {
    const dir = await scratchDir('edit-replaced');
    const { path, original, edit, state } = await prepare(dir, Buffer.alloc(3000, 0x30));
    await writeFile(`${path}.new`, original);
    await rename(`${path}.new`, path);
    await expect(applyEdit(path, edit, state)).rejects.toThrow(
      /^changed while being signed \(it was replaced by another file\)/,
    );
    expect((await readFile(path)).equals(original)).toBe(true);
  });
});

async function processPid(alive: boolean): Promise<{ pid: number; end(): void }> {
  const child = spawn(process.execPath, ['-e', alive ? 'setTimeout(() => {}, 60000)' : '0']);
  if (!alive) await new Promise((r) => child.once('exit', r));
  return { pid: child.pid!, end: () => child.kill() };
}

describe('the per-file lock', () => {
  const lockOf = (pid: number, host = hostTag) =>
    JSON.stringify({ pid, host, started: Date.now(), token: 'x' });

  it('a stale lock broken by many takers at once ends with exactly one holder', async () => {
    const gone = await processPid(false);
    const dir = await scratchDir('lock-race');
    for (let round = 0; round < 30; round++) {
      const file = join(dir, `r${round}.exe`);
      await writeFile(lockPathOf(file), lockOf(gone.pid));
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => lockFile(file)));
      const held = outcomes.filter((o) => o.status === 'fulfilled');
      expect(held).toHaveLength(1);
      for (const o of outcomes)
        if (o.status === 'rejected') expect(String(o.reason)).toMatch(new RegExp(`pid ${process.pid}`));
      await (held[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    }
    expect(await sidecars(dir)).toEqual([]);
  });

  it('is refused while its owner runs, naming the owner; taken over once the owner is gone', async () => {
    const file = join(await scratchDir('lock'), 'a.exe');
    const owner = await processPid(true);
    try {
      await writeFile(lockPathOf(file), lockOf(owner.pid));
      await expect(lockFile(file)).rejects.toThrow(
        new RegExp(
          `^being signed by another vaultsign run, pid ${owner.pid}, since .*; not signed, unchanged`,
        ),
      );
    } finally {
      owner.end();
    }
    const gone = await processPid(false);
    await writeFile(lockPathOf(file), lockOf(gone.pid));
    const lock = await lockFile(file);
    expect(JSON.parse(await readFile(lockPathOf(file), 'utf8')).pid).toBe(process.pid);
    // Held by this run: a second taker is refused too.
    await expect(lockFile(file)).rejects.toThrow(new RegExp(`pid ${process.pid}`));
    await lock.release();
    expect(await sidecars(join(file, '..'))).toEqual([]);
  });

  it('is taken over when left empty by a run killed while creating it', async () => {
    const file = join(await scratchDir('lock-empty'), 'a.exe');
    await writeFile(lockPathOf(file), '');
    const past = new Date(Date.now() - 5_000);
    await utimes(lockPathOf(file), past, past);
    const lock = await lockFile(file);
    expect(JSON.parse(await readFile(lockPathOf(file), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('is taken over at once when a run killed while taking it over left its takeover file', async () => {
    const dir = await scratchDir('lock-takeover');
    const file = join(dir, 'a.exe');
    const gone = await processPid(false);
    await writeFile(lockPathOf(file), lockOf(gone.pid));
    await writeFile(takeoverPathOf(lockPathOf(file)), lockOf(gone.pid));
    const started = performance.now();
    const lock = await lockFile(file);
    // Not after the 10 s a takeover file of an owner that cannot be checked is given.
    expect(performance.now() - started).toBeLessThan(2_000);
    await lock.release();
    expect(await sidecars(dir)).toEqual([]);
  });

  it("removes left takeover files of gone runs beside a file it holds, never a running one's", async () => {
    const dir = await scratchDir('lock-left-takeover');
    const [left, live] = [join(dir, 'a.exe'), join(dir, 'b.exe')].map((f) => takeoverPathOf(lockPathOf(f)));
    const gone = await processPid(false);
    const owner = await processPid(true);
    try {
      await writeFile(left, lockOf(gone.pid));
      await writeFile(live, lockOf(owner.pid));
      await removeLeftTakeovers([left, live]);
      expect(await sidecars(dir)).toEqual([basename(live)]);
    } finally {
      owner.end();
    }
  });

  it('is never taken from another host, whose processes cannot be checked', async () => {
    const file = join(await scratchDir('lock-host'), 'a.exe');
    const gone = await processPid(false);
    await writeFile(lockPathOf(file), lockOf(gone.pid, '00000000'));
    await expect(lockFile(file)).rejects.toThrow(/pid \d+ on another host/);
  });
});

describe('restoring from a journal', () => {
  it('never cuts bytes another program appended after the edit began', async () => {
    const dir = await scratchDir('restore-grown');
    const { path, original, edit } = await prepare(dir, Buffer.alloc(3000, 0x30));
    const handle = await open(path, 'r+');
    try {
      const { journal } = await writeJournal(path, handle, edit);
      for (const { offset, bytes } of edit.patches) await handle.write(bytes, 0, bytes.length, offset);
      await handle.write(edit.append, 0, edit.append.length, edit.truncateTo);
      const foreign = Buffer.alloc(700, 0x66);
      await appendFile(path, foreign);
      await expect(restoreFromJournal(handle, journal)).rejects.toThrow(
        /nothing is cut and its header is put back/,
      );
      // The header as before, the table still there, every foreign byte kept.
      expect((await readFile(path)).equals(Buffer.concat([original, edit.append, foreign]))).toBe(true);
    } finally {
      await handle.close();
    }
  });

  it('is not applied to a file rebuilt since (a new file in its place)', async () => {
    const dir = await scratchDir('restore-rebuilt');
    const { path, edit } = await prepare(dir, Buffer.alloc(3000, 0x30));
    const handle = await open(path, 'r+');
    const { journalPath } = await writeJournal(path, handle, edit);
    await handle.close();
    const rebuilt = Buffer.alloc(20_000, 0x72);
    await writeFile(`${path}.new`, rebuilt);
    await rename(`${path}.new`, path);
    expect(await recoverFile(path, [journalPath])).toBe(false);
    expect((await readFile(path)).equals(rebuilt)).toBe(true);
    expect(await sidecars(dir)).toEqual([]);
  });

  it('leaves a journal alone while the run that wrote it is still going', async () => {
    const dir = await scratchDir('restore-live');
    const file = join(dir, 'a.exe');
    await writeFile(file, 'half signed');
    const owner = await processPid(true);
    try {
      const journal = join(dir, `.a.exe.vaultsign-journal-${owner.pid}-${hostTag}`);
      await writeFile(journal, '{}');
      await expect(recoverFile(file, [journal])).rejects.toThrow(
        new RegExp(`a vaultsign run that is still going \\(pid ${owner.pid}\\) left a journal`),
      );
      expect(await readFile(journal, 'utf8')).toBe('{}');
    } finally {
      owner.end();
    }
  });
});

describe('discovery', () => {
  it('never takes journals, journal temp files or locks as files to sign', async () => {
    const dir = await scratchDir('sidecars');
    await writeFile(join(dir, 'a.exe'), 'x');
    for (const name of [
      '.a.exe.vaultsign-lock',
      '.a.exe.vaultsign-journal-123-abcdef12',
      '.a.exe.vaultsign-journal-123-abcdef12.tmp',
      '.a.exe.vaultsign-lock.stale-1-x',
    ])
      await writeFile(join(dir, name), 'x');
    const found = await findFiles({ files: [], folder: dir, folderFilter: [], recurse: false, exclude: [] });
    expect(found.files).toEqual([join(dir, 'a.exe')]);
  });
});
