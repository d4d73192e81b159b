/**
 * A problem the user can act on (bad input, bad configuration, a remote refusal).
 * Its message is shown as is, without a stack trace.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** The message of any thrown value, for one-line reports. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** messageOf, with the cause one level down: fetch says only "fetch failed" and keeps the network error there. */
export function messageWithCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${messageOf(error)}${cause}`;
}
