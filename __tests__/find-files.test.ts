import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { FileQuery } from '../src/config/file-query.js';
import { listOf } from '../src/config/inputs.js';
import { buildSignConfig } from '../src/config/sign-config.js';
import { findFiles } from '../src/discovery/find-files.js';
import { expandBraces } from '../src/discovery/braces.js';
import { UserError } from '../src/errors.js';
import { scratchDir } from '../test/pe-fixtures.js';

let root: string;
let outside: string;
/** A folder link: a junction on Windows, which needs no symlink privilege. */
const linkFolder = (target: string, path: string) =>
  symlink(target, path, process.platform === 'win32' ? 'junction' : 'dir');

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
  await linkFolder(outside, join(out, 'linked-folder'));
  await writeFile(join(root, 'catalog.txt'), '# files to sign\nout/a.dll\n\nout/sub/c.dll\n');
});

const query = (q: Partial<FileQuery>): FileQuery => ({
  files: [],
  folderFilter: [],
  recurse: false,
  exclude: [],
  ...q,
});
/** Paths relative to out/, with / on every OS. */
const names = async (q: Partial<FileQuery>, workspace?: string) =>
  (await findFiles(query(q), workspace)).files.map((f) =>
    relative(join(root, 'out'), f).split(sep).join('/'),
  );

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

  it('skips a symbolic link to a folder inside the searched folder, with a note', async () => {
    const dir = await scratchDir('discovery-folder-link');
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real', 'a.dll'), 'x');
    await linkFolder(join(dir, 'real'), join(dir, 'linked.dll'));
    const found = await findFiles(query({ folder: dir, folderFilter: ['dll'], recurse: true }));
    expect(found.files).toEqual([join(dir, 'real', 'a.dll')]);
    expect(found.notes).toEqual([
      expect.stringMatching(/linked\.dll: skipped, a symbolic link to a folder$/),
    ]);
  });

  it('expands braces in files, files-folder-filter and exclude', async () => {
    const out = join(root, 'out');
    expect(await names({ files: [join(out, '*.{dll,exe}')] })).toEqual(['a.dll', 'b.exe']);
    expect(await names({ folder: out, folderFilter: ['{a,b}.*', '*.{txt,DLL}'] })).toEqual([
      'App.DLL',
      'a.dll',
      'b.exe',
      'readme.txt',
    ]);
    expect(
      await names({
        folder: out,
        recurse: true,
        folderFilter: ['dll'],
        exclude: [join(out, '{sub,x}', '**')],
      }),
    ).toEqual(['App.DLL', 'a.dll']);
    expect(expandBraces('a{b,c{d,e}}f{g}')).toEqual(['abf{g}', 'acdf{g}', 'acef{g}']);
    expect(expandBraces('{}x{,y}')).toEqual(['{}x', '{}xy']);
    expect(() => expandBraces('{0,1,2,3,4,5,6,7,8,9}'.repeat(4))).toThrow(
      /expands to more than 1000 patterns: list fewer alternatives/,
    );
  });

  it('keeps braces whole when list inputs are split at commas', async () => {
    expect(listOf(['*.{dll,exe}, b.exe\nc.{x,{y,z}},d', 'e{,f'])).toEqual([
      '*.{dll,exe}',
      'b.exe',
      'c.{x,{y,z}}',
      'd',
      'e{,f',
    ]);
    const out = join(root, 'out');
    const config = buildSignConfig({
      'pfx-file': 'key.pfx',
      files: [`${join(out, '*.{dll,exe}')}, ${join(out, 'sub', 'c.dll')}`],
      exclude: [join(out, '{b,x}.*')],
    });
    expect(await names(config.files)).toEqual(['a.dll', 'sub/c.dll']);
  });

  it('reads a catalog with CR LF line endings', async () => {
    const catalog = join(root, 'catalog-crlf.txt');
    await writeFile(catalog, '# files\r\nout/a.dll\r\n\r\n  out/sub/c.dll  \r\n');
    expect(await names({ catalog })).toEqual(['a.dll', 'sub/c.dll']);
  });

  it('refuses catalog entries outside the workspace unless files names them too', async () => {
    const workspace = root;
    const secret = join(outside, 'secret.dll');
    await symlink(secret, join(root, 'looks-inside.dll'));
    const cases = [relative(root, secret).split(sep).join('/'), secret, 'looks-inside.dll'];
    for (const line of cases) {
      const catalog = join(root, `catalog-outside-${cases.indexOf(line)}.txt`);
      await writeFile(catalog, `out/a.dll\n${line}\n`);
      const attempt = findFiles(query({ catalog }), workspace);
      await expect(attempt).rejects.toBeInstanceOf(UserError);
      await expect(attempt).rejects.toThrow(
        /files-catalog .*catalog-outside-\d\.txt: .*(secret|looks-inside)\.dll lies outside the workspace .* \(through "\.\.", an absolute path or a symbolic link\); list such files in files to sign them/,
      );
    }
    const catalog = join(root, 'catalog-outside-0.txt');
    const found = await findFiles(query({ catalog, files: [secret] }), workspace);
    expect(found.files).toEqual([join(root, 'out', 'a.dll'), secret].sort());
    // Inside the workspace (here: the folder that holds both), the same catalog is fine.
    const wider = await findFiles(query({ catalog }), join(root, '..'));
    expect(wider.files).toContain(secret);
  });
});
