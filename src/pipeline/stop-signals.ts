import { constants } from 'node:os';
import { UserError } from '../errors.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

export interface StopSignals {
  /** Aborts at the first SIGINT or SIGTERM, with a UserError that says which. */
  readonly signal: AbortSignal;
  /** The conventional exit status for the signal received (128 + its number), once one was. */
  exitStatus(): number | undefined;
  dispose(): void;
}

/**
 * A cancelled job (GitHub sends SIGINT, then SIGTERM a few seconds later, then kills): the first
 * signal stops new work and lets files being written finish, so the run can still report; a second
 * exits at once. Either way no file is half-written without its journal, which the next run restores.
 */
export function stopOnSignals(onFirst: (message: string) => void): StopSignals {
  const controller = new AbortController();
  let received: StopSignal | undefined;
  const status = (name: StopSignal) => 128 + constants.signals[name];
  const handle = (name: StopSignal) => {
    if (received) process.exit(status(name));
    received = name;
    onFirst(
      `received ${name}: stopping — files being written are finished, the others stay unchanged; a second signal stops at once`,
    );
    controller.abort(new UserError(`the run was cancelled (${name})`));
  };
  for (const name of STOP_SIGNALS) process.on(name, handle);
  return {
    signal: controller.signal,
    exitStatus: () => received && status(received),
    dispose: () => STOP_SIGNALS.forEach((name) => process.off(name, handle)),
  };
}
