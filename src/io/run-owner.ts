import { createHash } from 'node:crypto';
import { hostname, uptime } from 'node:os';

/** Who holds a lock or a journal: a process on a host, started at a time. */
export interface RunOwner {
  readonly pid: number;
  /** A short hash of the host name: enough to tell hosts apart on a shared folder, and safe in a file name. */
  readonly host: string;
  /** When the process started (ms since the epoch). */
  readonly started: number;
}

export const hostTag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/** This process. */
export const thisRun: RunOwner = {
  pid: process.pid,
  host: hostTag,
  started: Math.round(Date.now() - process.uptime() * 1000),
};

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, run by another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * True when `owner` is certainly gone: on this host, and its pid is not running or it started before
 * the machine last booted (its pid reused since). An owner on another host is never judged gone.
 */
export function isGone(owner: Pick<RunOwner, 'pid' | 'host'> & Partial<RunOwner>): boolean {
  if (owner.host !== hostTag) return false;
  if (owner.pid === process.pid) return owner.started !== undefined && owner.started !== thisRun.started;
  const bootedAt = Date.now() - uptime() * 1000;
  return !isRunning(owner.pid) || (owner.started !== undefined && owner.started < bootedAt - 60_000);
}
