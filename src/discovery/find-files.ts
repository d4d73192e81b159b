import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { FileQuery } from '../config/file-query.js';
import { UserError } from '../errors.js';
import { expandBraces } from './braces.js';
import { isSidecarFile } from '../io/sidecar-files.js';

export interface Discovery {
  /** Absolute paths, deduplicated and sorted. */
  readonly files: string[];
  /** Why something found was left out (e.g. a symlink leaving its folder). */
  readonly notes: string[];
}

const GLOB_CHARS = /[*?[\]{}]/;

/** The folder a glob searches: its path up to the first segment with a wildcard. */
function globRoot(pattern: string): string {
  const segments = resolve(pattern).split(sep);
  const literal = segments.findIndex((s) => GLOB_CHARS.test(s));
  return segments.slice(0, literal === -1 ? segments.length : literal).join(sep) || sep;
}

async function expand(patterns: readonly string[]): Promise<string[]> {
  if (patterns.length === 0) return [];
  // Loaded only for wildcards: with @actions/core and its HTTP client it is a good part of start-up.
  const glob = await import('@actions/glob');
  const globber = await glob.create(patterns.flatMap(expandBraces).join('\n'), {
    followSymbolicLinks: false,
    implicitDescendants: false,
    matchDirectories: false,
  });
  return globber.glob();
}

function isWithin(path: string, base: string): boolean {
  return path === base || path.startsWith(base.endsWith(sep) ? base : base + sep);
}

/**
 * Why a match found by a search is left out, if it is: a symlink counts only when it points to a file
 * inside the folder that was searched (a linked folder's files are found through their real path).
 */
async function leftOut(file: string, root: string): Promise<string | undefined> {
  const info = await lstat(file).catch(() => undefined);
  if (!info?.isSymbolicLink()) return undefined;
  const [target, base] = await Promise.all([
    realpath(file).catch(() => ''),
    realpath(root).catch(() => root),
  ]);
  if (target === '' || !isWithin(target, base)) return `a symbolic link that leads outside ${root}`;
  if ((await stat(target).catch(() => undefined))?.isDirectory()) return 'a symbolic link to a folder';
  return undefined;
}

/**
 * The files of a folder that pass files-folder-filter: extensions (dll, .dll; any letter case, as on
 * Windows) or globs (*.dll, app-*.exe).
 */
async function folderFiles(folder: string, filter: readonly string[], recurse: boolean): Promise<string[]> {
  const under = recurse ? join(folder, '**') : folder;
  const globs = filter.filter((entry) => GLOB_CHARS.test(entry));
  const extensions = new Set(
    filter.filter((entry) => !GLOB_CHARS.test(entry)).map((e) => `.${e.replace(/^\./, '').toLowerCase()}`),
  );
  const all = filter.length === 0 || extensions.size > 0 ? await expand([join(under, '*')]) : [];
  const byExtension = filter.length === 0 ? all : all.filter((f) => extensions.has(extname(f).toLowerCase()));
  return [...byExtension, ...(await expand(globs.map((g) => join(under, g))))];
}

/** The path itself and, for an existing file, where its symlinks lead. */
async function realPaths(path: string): Promise<string[]> {
  const real = await realpath(path).catch(() => undefined);
  return real && real !== path ? [path, real] : [path];
}

/**
 * Catalog entries must stay in the workspace (GITHUB_WORKSPACE, else the current folder): a catalog is
 * often generated, and "..", absolute paths or symlinks in it could reach files nobody meant to sign.
 * A file named in files as well is the user's explicit choice and is kept.
 */
async function checkCatalogEntries(
  catalog: string,
  entries: readonly string[],
  explicit: ReadonlySet<string>,
  workspace: string,
): Promise<void> {
  const base = await realpath(workspace).catch(() => resolve(workspace));
  const outside: string[] = [];
  for (const entry of entries) {
    if (explicit.has(entry)) continue;
    const paths = await realPaths(entry);
    if (!paths.every((path) => isWithin(path, resolve(workspace)) || isWithin(path, base)))
      outside.push(entry);
  }
  if (outside.length > 0) {
    const shown =
      outside.slice(0, 3).join(', ') + (outside.length > 3 ? ` and ${outside.length - 3} more` : '');
    throw new UserError(
      `files-catalog ${catalog}: ${shown} lie${outside.length === 1 ? 's' : ''} outside the workspace ${workspace} (through "..", an absolute path or a symbolic link); list such files in files to sign them, or fix the catalog`,
    );
  }
}

async function catalogEntries(catalog: string): Promise<string[]> {
  const text = await readFile(catalog, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`files-catalog ${catalog}: cannot read it (${error.code ?? error.message})`);
  });
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => (isAbsolute(line) ? line : resolve(dirname(catalog), line)));
}

/** Turns the user's file query into the list of files to sign. */
export async function findFiles(
  query: FileQuery,
  workspace: string = process.env.GITHUB_WORKSPACE || process.cwd(),
): Promise<Discovery> {
  const found: string[] = [];
  const notes: string[] = [];
  const empty: string[] = [];
  const keep = async (files: string[], root: string) => {
    for (const file of files) {
      // vaultsign's own journals and locks (another run's, in flight) are never inputs.
      if (isSidecarFile(file)) continue;
      const why = await leftOut(file, root);
      if (why) notes.push(`${file}: skipped, ${why}`);
      else found.push(resolve(file));
    }
  };

  for (const entry of query.files) {
    if (!GLOB_CHARS.test(entry)) {
      // A plain path is taken as given: if it is missing, signing reports it for that file.
      found.push(resolve(entry));
      continue;
    }
    const matches = await expand([entry]);
    if (matches.length === 0) empty.push(`files "${entry}"`);
    await keep(matches, globRoot(entry));
  }
  const explicit = new Set(found);

  if (query.folder) {
    const folder = resolve(query.folder);
    const info = await lstat(folder).catch(() => undefined);
    if (!info?.isDirectory()) throw new UserError(`files-folder ${query.folder}: not a folder`);
    let matches = await folderFiles(folder, query.folderFilter, query.recurse);
    if (query.depth !== undefined) {
      const depth = query.depth;
      matches = matches.filter((file) => relative(folder, file).split(sep).length - 1 <= depth);
    }
    if (matches.length === 0) {
      const how = `filter ${query.folderFilter.join(',') || '(all files)'}, recurse ${query.recurse}${query.depth !== undefined ? `, depth ${query.depth}` : ''}`;
      empty.push(`files-folder "${query.folder}" (${how})`);
    }
    await keep(matches, folder);
  }

  if (query.catalog) {
    const entries = await catalogEntries(query.catalog);
    if (entries.length === 0) empty.push(`files-catalog "${query.catalog}"`);
    await checkCatalogEntries(query.catalog, entries, explicit, workspace);
    found.push(...entries);
  }

  const excluded = new Set((await expand(query.exclude)).map((f) => resolve(f)));
  const files = [...new Set(found)].filter((f) => !excluded.has(f)).sort();
  if (files.length === 0) {
    const searched = empty.length ? empty.join('; ') : 'the given inputs';
    const exclusion = excluded.size ? ` (after exclude removed ${excluded.size})` : '';
    throw new UserError(`no files to sign: nothing matched in ${searched}${exclusion}`);
  }
  return { files, notes };
}
