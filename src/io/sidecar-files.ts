import { basename, dirname, join } from 'node:path';
import type { RunOwner } from './run-owner.js';

/**
 * The files vaultsign keeps beside a file while it signs it: a lock (`.NAME.vaultsign-lock`), a
 * journal naming its owner (`.NAME.vaultsign-journal-PID-HOST`, first written as `….tmp`), and for a
 * file rewritten whole its new version (`.NAME.vaultsign-new-PID-HOST`), and while a stale lock is
 * removed, a takeover file (`.NAME.vaultsign-lock.takeover`). They are never inputs.
 */
const SIDECAR = /^\..+\.vaultsign-(?:journal|lock|new)(?:[-.].*)?$/;
const NEW_FILE = /^\.(.+)\.vaultsign-new-(\d+)-([0-9a-f]+)$/;
const TAKEOVER = /^\.(.+)\.vaultsign-lock\.takeover$/;
const JOURNAL = /^\.(.+)\.vaultsign-journal(?:-(\d+)-([0-9a-f]+))?(\.tmp)?$/;

export function isSidecarFile(path: string): boolean {
  return SIDECAR.test(basename(path));
}

export function lockPathOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.vaultsign-lock`);
}

/** The file a run creates while it removes a stale lock: one such run at a time. */
export function takeoverPathOf(lockPath: string): string {
  return `${lockPath}.takeover`;
}

/** The file whose lock a left-over takeover file was for. */
export function parseTakeoverName(name: string): string | undefined {
  return TAKEOVER.exec(name)?.[1];
}

export function journalPathOf(path: string, owner: RunOwner): string {
  return join(dirname(path), `.${basename(path)}.vaultsign-journal-${owner.pid}-${owner.host}`);
}

export interface JournalName {
  /** The name of the file it belongs to, in the same folder. */
  readonly file: string;
  /** Undefined for a journal of a version that did not name its owner. */
  readonly owner?: { readonly pid: number; readonly host: string };
  /** Never completed: the file was not touched yet when its writer stopped. */
  readonly unfinished: boolean;
}

export function parseJournalName(name: string): JournalName | undefined {
  const match = JOURNAL.exec(name);
  if (!match) return undefined;
  const owner = match[2] ? { pid: Number(match[2]), host: match[3] } : undefined;
  return { file: match[1], owner, unfinished: match[4] !== undefined };
}

export function newFilePathOf(path: string, owner: RunOwner): string {
  return join(dirname(path), `.${basename(path)}.vaultsign-new-${owner.pid}-${owner.host}`);
}

/** The file a left-over new version belongs to, and its writer. */
export function parseNewFileName(
  name: string,
): { file: string; owner: { pid: number; host: string } } | undefined {
  const match = NEW_FILE.exec(name);
  return match ? { file: match[1], owner: { pid: Number(match[2]), host: match[3] } } : undefined;
}
