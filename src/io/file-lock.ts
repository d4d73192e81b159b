import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { writeNewFile } from './exact-io.js';
import { osErrorInWords } from './os-error.js';
import { isGone, thisRun, type RunOwner } from './run-owner.js';
import { lockPathOf, takeoverPathOf } from './sidecar-files.js';

interface LockRecord extends RunOwner {
  /** Tells this lock from an earlier one of the same run. */
  readonly token: string;
}

export interface FileLock {
  release(): Promise<void>;
}

/**
 * A lock file still empty or half written is being created (its few bytes take microseconds); one
 * that stays so this long was left by a run killed while creating it.
 */
const CREATING_MS = 2_000;

/** A lock's text, or undefined when there is none. Lock files are a few bytes: read at once. */
function readLockText(lockPath: string): string | undefined {
  try {
    return readFileSync(lockPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function readRecord(lockPath: string): { text: string; record?: LockRecord } | undefined {
  const text = readLockText(lockPath);
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as LockRecord;
    return {
      text,
      record: Number.isInteger(record.pid) && typeof record.host === 'string' ? record : undefined,
    };
  } catch {
    return { text };
  }
}

/** Creates the lock file, or answers false when it exists. A failed write leaves no lock behind. */
async function create(lockPath: string, text: string): Promise<boolean> {
  try {
    await writeNewFile(lockPath, Buffer.from(text));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** A takeover lasts milliseconds: a takeover file older than this was left by a run killed during one. */
const TAKEOVER_MS = 10_000;

/**
 * Removes a takeover file (`….takeover`) another run left: its owner is gone, or it has been there too
 * long (an owner on another host, or one killed before it wrote its name). Answers whether it did.
 */
async function removeIfLeft(takeover: string): Promise<boolean> {
  const found = readRecord(takeover);
  if (!found) return false; // finished meanwhile
  if (!found.record || !isGone(found.record)) {
    const since = (await stat(takeover).catch(() => undefined))?.mtimeMs ?? Date.now();
    if (Date.now() - since <= (found.record ? TAKEOVER_MS : CREATING_MS)) return false;
  }
  // Looked at again right before: another run may have removed it and started a takeover of its own.
  if (readLockText(takeover) !== found.text) return false;
  await unlink(takeover).catch(() => undefined);
  return true;
}

/**
 * Removes a lock left by a run that is gone. Only the run holding the takeover file (`….takeover`,
 * created exclusively, naming its owner) may remove a lock, and only while it still holds the stale
 * text: a new lock another run took after the stale one went is never removed.
 */
async function breakStale(lockPath: string, staleText: string): Promise<void> {
  const takeover = takeoverPathOf(lockPath);
  if (!(await create(takeover, JSON.stringify(thisRun)))) {
    if (!(await removeIfLeft(takeover))) await sleep(20); // another run is taking it over
    return; // the caller looks again
  }
  try {
    if (readLockText(lockPath) === staleText) await unlink(lockPath).catch(() => undefined);
  } finally {
    await unlink(takeover).catch(() => undefined);
  }
}

/**
 * Removes the takeover files of runs that are gone (killed during a takeover), found beside files
 * this run holds the lock of.
 */
export async function removeLeftTakeovers(takeovers: readonly string[]): Promise<void> {
  for (const takeover of takeovers) await removeIfLeft(takeover);
}

function heldBy(lockPath: string, owner: LockRecord | undefined): UserError {
  const who = owner
    ? `another vaultsign run, pid ${owner.pid}${owner.host === thisRun.host ? '' : ' on another host'}, since ${new Date(owner.started).toISOString()}`
    : 'another vaultsign run';
  return new UserError(
    `being signed by ${who}; not signed, unchanged: sign it after that run has ended (if no such run is going, delete ${lockPath})`,
  );
}

/**
 * Takes the file's lock: one signer per file at a time, across processes and, on a shared folder,
 * hosts. The lock is a file created exclusively beside it (works on every OS and file system) naming
 * its owner; a lock whose owner is gone from this host is taken over.
 */
export async function lockFile(path: string): Promise<FileLock> {
  const lockPath = lockPathOf(path);
  const mine: LockRecord = { ...thisRun, token: randomUUID() };
  const text = JSON.stringify(mine);
  for (let attempt = 0; ; attempt++) {
    if (attempt >= 100) throw heldBy(lockPath, readRecord(lockPath)?.record);
    try {
      if (await create(lockPath, text)) break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new UserError('no such file (its folder does not exist)');
      throw new UserError(
        `cannot create its lock file ${lockPath}: ${osErrorInWords(error)}; not signed, unchanged`,
      );
    }
    const found = readRecord(lockPath);
    if (!found) continue; // released meanwhile
    if (found.record && !isGone(found.record)) throw heldBy(lockPath, found.record);
    if (!found.record) {
      const age = Date.now() - ((await stat(lockPath).catch(() => undefined))?.mtimeMs ?? 0);
      if (age < CREATING_MS) {
        await sleep(50);
        continue;
      }
    }
    await breakStale(lockPath, found.text);
  }
  return {
    async release() {
      // Only our own lock: had it been broken and taken (it never should), the new owner's stays. The
      // removal goes through the thread pool: it costs the file system more than the trip.
      if (readRecord(lockPath)?.text === text) await unlink(lockPath).catch(() => undefined);
    },
  };
}
