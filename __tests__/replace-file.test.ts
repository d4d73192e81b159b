import { chmod, lstat, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { FileRewrite } from '../src/formats/format.js';
import { fileState } from '../src/io/file-state.js';
import { findLeftBehind } from '../src/io/left-behind.js';
import { removeLeftNewFiles, replaceFile } from '../src/io/replace-file.js';
import { hostTag } from '../src/io/run-owner.js';
import { scratchDir } from '../test/pe-fixtures.js';

const noop = async () => undefined;

const rewriteTo = (bytes: Buffer): FileRewrite => ({
  async write(out) {
    await out.write(bytes, 0, bytes.length, 0);
    return bytes.length;
  },
});

async function original(dir: string, name = 'a.msi', mode = 0o640) {
  const path = join(dir, name);
  await writeFile(path, 'original bytes');
  await chmod(path, mode);
  return { path, state: fileState(await stat(path)) };
}

describe('replaceFile', () => {
  it('puts the new file in place with the original mode, and leaves nothing beside it', async () => {
    const dir = await scratchDir('replace-file');
    const { path, state } = await original(dir);
    const seenAtClose: string[] = [];
    const closeOriginal = async () => void seenAtClose.push(await readFile(path, 'utf8'));
    await replaceFile(path, rewriteTo(Buffer.from('signed bytes, longer')), state, closeOriginal);
    // The original is closed once, after the new file is complete and before it replaces the original.
    expect(seenAtClose).toEqual(['original bytes']);
    expect(await readFile(path, 'utf8')).toBe('signed bytes, longer');
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['a.msi']);
  });

  it('keeps the original when writing fails, and removes the half-written file', async () => {
    const dir = await scratchDir('replace-file');
    const { path, state } = await original(dir);
    const failing: FileRewrite = {
      async write(out) {
        await out.write(Buffer.from('half'), 0, 4, 0);
        throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      },
    };
    await expect(replaceFile(path, failing, state, noop)).rejects.toThrow(
      'writing the signed file failed: the disk is full (ENOSPC); not signed, unchanged',
    );
    expect(await readFile(path, 'utf8')).toBe('original bytes');
    expect(await readdir(dir)).toEqual(['a.msi']);
  });

  it('refuses a file written to since it was read, and keeps what was written', async () => {
    const dir = await scratchDir('replace-file');
    const { path, state } = await original(dir);
    await writeFile(path, 'a newer build');
    await expect(replaceFile(path, rewriteTo(Buffer.from('signed')), state, noop)).rejects.toThrow(
      /^changed while being signed \(its size went from 14 to 13 bytes\); not signed, unchanged$/,
    );
    expect(await readFile(path, 'utf8')).toBe('a newer build');
    expect(await readdir(dir)).toEqual(['a.msi']);
  });

  it('refuses a written length that is not the file written', async () => {
    const dir = await scratchDir('replace-file');
    const { path, state } = await original(dir);
    const lying: FileRewrite = { write: async (out) => (await out.write(Buffer.from('abc'), 0, 3, 0), 10) };
    await expect(replaceFile(path, lying, state, noop)).rejects.toThrow(
      'the new file is 3 bytes after writing, not 10',
    );
    expect(await readFile(path, 'utf8')).toBe('original bytes');
  });

  it("finds what stopped runs left beside the files named; removes a stopped run's new file, keeps a live one's", async () => {
    const dir = await scratchDir('replace-file');
    const { path } = await original(dir);
    await writeFile(join(dir, 'b.msi'), 'another file');
    // pid 2^22 + 1 is above Linux's pid_max: certainly not running.
    const dead = join(dir, `.a.msi.vaultsign-new-4194305-${hostTag}`);
    const live = join(dir, `.a.msi.vaultsign-new-1-${hostTag}`);
    const journal = join(dir, `.a.msi.vaultsign-journal-4194305-${hostTag}`);
    const otherFiles = join(dir, `.c.msi.vaultsign-new-4194305-${hostTag}`);
    await Promise.all(
      [dead, live, journal, otherFiles].map((left) => writeFile(left, 'left by another run')),
    );
    const found = await findLeftBehind([path, join(dir, 'b.msi')]);
    expect([...found.keys()]).toEqual([path]);
    const left = found.get(path)!;
    expect({ journals: left.journals, newFiles: [...left.newFiles].sort() }).toEqual({
      journals: [journal],
      newFiles: [dead, live].sort(),
    });
    await removeLeftNewFiles(left.newFiles);
    const names = [`.a.msi.vaultsign-new-1-${hostTag}`, `.a.msi.vaultsign-journal-4194305-${hostTag}`];
    expect((await readdir(dir)).sort()).toEqual(
      [...names, `.c.msi.vaultsign-new-4194305-${hostTag}`, 'a.msi', 'b.msi'].sort(),
    );
  });

  it('replaces the file a symbolic link points to and keeps the link', async () => {
    const dir = await scratchDir('replace-file');
    const { path, state } = await original(dir, 'real.msi');
    const link = join(dir, 'link.msi');
    await symlink('real.msi', link);
    await replaceFile(link, rewriteTo(Buffer.from('signed')), state, noop);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readlink(link)).toBe('real.msi');
    expect(await readFile(path, 'utf8')).toBe('signed');
  });
});
