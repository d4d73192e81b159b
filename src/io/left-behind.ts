import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseJournalName, parseNewFileName } from './sidecar-files.js';

/** What stopped runs left beside a file: journals to apply back, and new versions of a whole rewrite. */
export interface LeftBehind {
  readonly journals: string[];
  readonly newFiles: string[];
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
      const journal = parseJournalName(entry);
      const newFile = journal ? undefined : parseNewFileName(entry);
      const name = journal?.file ?? newFile?.file;
      if (name === undefined || !names.has(name)) continue;
      const file = resolve(folder, name);
      const left = found.get(file) ?? { journals: [], newFiles: [] };
      found.set(file, left);
      (journal ? left.journals : left.newFiles).push(join(folder, entry));
    }
  }
  return found;
}
