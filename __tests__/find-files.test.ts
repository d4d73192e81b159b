import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { FileQuery } from '../src/config/file-query.js';
import { findFiles } from '../src/discovery/find-files.js';
import { UserError } from '../src/errors.js';
import { scratchDir } from '../test/pe-fixtures.js';

let root: string;
let outside: string;

/** out/ a.dll b.exe readme.txt sub/c.dll sub/deeper/d.exe, plus symlinks in and out of out/. */
beforeAll(async () => {
  root = await scratchDir('discovery');
  outside = await scratchDir('discovery-outside');
  const out = join(root, 'out');
  await mkdir(join(out, 'sub', 'deeper'), { recursive: true });
  for (const file of ['a.dll', 'b.exe', 'readme.txt', 'sub/c.dll', 'sub/deeper/d.exe', 'App.DLL'])
    await writeFile(join(out, file), 'x');
  await writeFile(join(outside, 'secret.dll'), 'x');
  await symlink(join(outside, 'secret.dll'), join(out, 'escape.dll'));
  await symlink(join(out, 'a.dll'), join(out, 'sub', 'alias.dll'));
  await symlink(outside, join(out, 'linked-folder'));
  await writeFile(join(root, 'catalog.txt'), '# files to sign\nout/a.dll\n\nout/sub/c.dll\n');
});

const query = (q: Partial<FileQuery>): FileQuery => ({
  files: [],
  folderFilter: [],
  recurse: false,
  exclude: [],
  ...q,
});
const names = async (q: Partial<FileQuery>) =>
  (await findFiles(query(q))).files.map((f) => relative(join(root, 'out'), f));

describe('file discovery', () => {
  it('filters a folder by extension in any letter case, without recursing by default', async () => {
    expect(await names({ folder: join(root, 'out'), folderFilter: ['dll', 'exe'] })).toEqual([
      'App.DLL',
      'a.dll',
      'b.exe',
    ]);
  });

  it('accepts globs as filters', async () => {
    expect(await names({ folder: join(root, 'out'), folderFilter: ['*.exe'], recurse: true })).toEqual([
      'b.exe',
      'sub/deeper/d.exe',
    ]);
  });

  it('recurses to a given depth', async () => {
    const folder = join(root, 'out');
    expect(await names({ folder, folderFilter: ['dll', '.exe'], recurse: true, depth: 1 })).toEqual([
      'App.DLL',
      'a.dll',
      'b.exe',
      'sub/alias.dll',
      'sub/c.dll',
    ]);
    expect(await names({ folder, folderFilter: ['dll', 'exe'], recurse: true })).toContain(
      'sub/deeper/d.exe',
    );
  });

  it('never follows a symlink out of the folder, and says so', async () => {
    const found = await findFiles(query({ folder: join(root, 'out'), folderFilter: ['dll'], recurse: true }));
    const listed = found.files.map((f) => relative(join(root, 'out'), f));
    expect(listed).not.toContain('escape.dll');
    expect(listed.some((f) => f.startsWith('linked-folder'))).toBe(false);
    expect(listed).toContain('sub/alias.dll');
    expect(found.notes).toEqual([
      expect.stringMatching(/escape\.dll: skipped, a symbolic link that leads outside/),
    ]);
  });

  it('expands globs in files, dedupes, sorts, and applies exclude', async () => {
    const out = join(root, 'out');
    expect(
      await names({
        files: [join(out, '**', '*.dll'), join(out, 'a.dll'), join(out, 'b.exe')],
        exclude: [join(out, 'sub', '**')],
      }),
    ).toEqual(['a.dll', 'b.exe']);
  });

  it('reads a catalog relative to its own folder', async () => {
    expect(await names({ catalog: join(root, 'catalog.txt') })).toEqual(['a.dll', 'sub/c.dll']);
  });

  it('says what was searched when nothing matches', async () => {
    const attempt = findFiles(
      query({
        folder: join(root, 'out'),
        folderFilter: ['msi'],
        recurse: true,
        depth: 2,
        files: [join(root, 'nothing', '*.exe')],
      }),
    );
    await expect(attempt).rejects.toBeInstanceOf(UserError);
    await expect(attempt).rejects.toThrow(
      /no files to sign: nothing matched in files ".*nothing\/\*\.exe"; files-folder ".*out" \(filter msi, recurse true, depth 2\)/,
    );
  });

  it('refuses a files-folder that is not a folder', async () => {
    await expect(findFiles(query({ folder: join(root, 'catalog.txt') }))).rejects.toThrow(
      /files-folder .*catalog\.txt: not a folder/,
    );
  });
});
