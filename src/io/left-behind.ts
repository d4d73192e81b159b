import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseJournalName, parseNewFileName, parseTakeoverName } from './sidecar-files.js';

/**
 * What stopped runs left beside a file: journals to apply back, new versions of a whole rewrite, and
 * takeover files of its lock.
 */
export interface LeftBehind {
  readonly journals: string[];
  readonly newFiles: string[];
  readonly takeovers: string[];
}

/**
 * What stopped runs left beside `paths`, by file (resolved path). Each folder is listed once for the
 * run, not once a file: a folder of 10,000 scripts is read once.
 */
export async function findLeftBehind(paths: readonly string[]): Promise<Map<string, LeftBehind>> {
  const byFolder = new Map<string, Set<string>>();
  for (const path of paths) {
    const folder = dirname(path);
    if (!byFolder.has(folder)) byFolder.set(folder, new Set());
    byFolder.get(folder)!.add(basename(path));
  }
  const found = new Map<string, LeftBehind>();
  for (const [folder, names] of byFolder) {
    for (const entry of await readdir(folder).catch(() => [] as string[])) {
      const journal = parseJournalName(entry)?.file;
      const newFile = journal === undefined ? parseNewFileName(entry)?.file : undefined;
      const takeover = parseTakeoverName(entry);
      const name = journal ?? newFile ?? takeover;
      if (name === undefined || !names.has(name)) continue;
      const file = resolve(folder, name);
      const left = found.get(file) ?? { journals: [], newFiles: [], takeovers: [] };
      found.set(file, left);
      const kind =
        journal !== undefined ? left.journals : newFile !== undefined ? left.newFiles : left.takeovers;
      kind.push(join(folder, entry));
    }
  }
  return found;
}
