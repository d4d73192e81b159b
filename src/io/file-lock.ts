import { randomUUID } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.js';
import { writeFully } from './exact-io.js';
import { osErrorInWords } from './os-error.js';
import { isGone, thisRun, type RunOwner } from './run-owner.js';
import { lockPathOf } from './sidecar-files.js';

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

async function readRecord(lockPath: string): Promise<{ text: string; record?: LockRecord } | undefined> {
  const text = await readFile(lockPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
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
  const handle = await open(lockPath, 'wx').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EEXIST') return undefined;
    throw error;
  });
  if (!handle) return false;
  try {
    await writeFully(handle, Buffer.from(text), 0);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await unlink(lockPath).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return true;
}

/** A takeover lasts milliseconds: a takeover file older than this was left by a run killed during one. */
const TAKEOVER_MS = 10_000;

/**
 * Removes a lock left by a run that is gone. Only the run holding the takeover file (`….takeover`,
 * created exclusively) may remove a lock, and only while it still holds the stale text: a new lock
 * another run took after the stale one went is never removed.
 */
async function breakStale(lockPath: string, staleText: string): Promise<void> {
  const takeover = `${lockPath}.takeover`;
  const handle = await open(takeover, 'wx').catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
    const since = (await stat(takeover).catch(() => undefined))?.mtimeMs ?? Date.now();
    if (Date.now() - since > TAKEOVER_MS) await unlink(takeover).catch(() => undefined);
    return undefined;
  });
  if (!handle) {
    await sleep(20); // another run is taking it over: the caller looks again
    return;
  }
  await handle.close();
  try {
    if ((await readFile(lockPath, 'utf8').catch(() => undefined)) === staleText)
      await unlink(lockPath).catch(() => undefined);
  } finally {
    await unlink(takeover).catch(() => undefined);
  }
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
    if (attempt >= 100) throw heldBy(lockPath, (await readRecord(lockPath))?.record);
    try {
      if (await create(lockPath, text)) break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw new UserError('no such file (its folder does not exist)');
      throw new UserError(
        `cannot create its lock file ${lockPath}: ${osErrorInWords(error)}; not signed, unchanged`,
      );
    }
    const found = await readRecord(lockPath);
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
      // Only our own lock: had it been broken and taken (it never should), the new owner's stays.
      if ((await readRecord(lockPath))?.text === text) await unlink(lockPath).catch(() => undefined);
    },
  };
}
