import { chmod, lstat, readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { FileRewrite } from '../src/formats/format.js';
import { fileState } from '../src/io/file-state.js';
import { replaceFile } from '../src/io/replace-file.js';
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

  it('removes a new file a stopped run left, and keeps one of a run still going', async () => {
    const dir = await scratchDir('replace-file');
    const { path, state } = await original(dir);
    // pid 2^22 + 1 is above Linux's pid_max: certainly not running.
    const dead = join(dir, `.a.msi.vaultsign-new-4194305-${hostTag}`);
    const live = join(dir, `.a.msi.vaultsign-new-1-${hostTag}`);
    await writeFile(dead, 'half a file');
    await writeFile(live, 'another run, still writing');
    await replaceFile(path, rewriteTo(Buffer.from('signed')), state, noop);
    expect((await readdir(dir)).sort()).toEqual([`.a.msi.vaultsign-new-1-${hostTag}`, 'a.msi'].sort());
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
