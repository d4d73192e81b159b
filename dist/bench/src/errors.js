/**
 * A problem the user can act on (bad input, bad configuration, a remote refusal).
 * Its message is shown as is, without a stack trace.
 */
export class UserError extends Error {
    name = 'UserError';
}
/** The message of any thrown value, for one-line reports. */
export function messageOf(error) {
    return error instanceof Error ? error.message : String(error);
}
