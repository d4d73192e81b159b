import { UserError, messageOf } from '../errors.js';
import { boundedFetch, ReplyTooLargeError } from '../io/bounded-fetch.js';
import { HttpError } from '../io/http-error.js';
import { retry } from '../io/retry.js';

/** What a job without the id-token permission must add for GitHub OIDC. */
export const PERMISSIONS_HINT = `add to the job (or workflow):
  permissions:
    id-token: write
    contents: read`;

/** An ID token answer is a JWT of a few KB; the runner's token service answers in a second or two. */
const ID_TOKEN_LIMITS = {
  maxBytes: 64 << 10,
  firstByteMs: 30_000,
  totalMs: 60_000,
  hint: 'is ACTIONS_ID_TOKEN_REQUEST_URL the runner’s token service?',
};

/**
 * A GitHub OIDC ID token for `audience`, asked of the runner's token service the way @actions/core's
 * getIDToken asks (ACTIONS_ID_TOKEN_REQUEST_URL plus `&audience=`, the request token as bearer), for
 * the CLI in a workflow `run:` step. Unlike getIDToken it prints nothing: no `::add-mask::` line that
 * would put the token itself on the CLI's output.
 */
export async function requestGithubIdToken(
  env: NodeJS.ProcessEnv,
  audience: string,
  signal?: AbortSignal,
): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken)
    throw new UserError('GitHub OIDC: ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN are not set in this step');
  const url = `${requestUrl}&audience=${encodeURIComponent(audience)}`;
  const body = await retry(
    () =>
      boundedFetch(
        url,
        { headers: { Authorization: `Bearer ${requestToken}`, Accept: 'application/json' } },
        ID_TOKEN_LIMITS,
        signal,
      ),
    {
      attempts: 3,
      baseDelayMs: 1000,
      maxDelayMs: 10_000,
      signal,
      isRetryable: (error) =>
        error instanceof HttpError ? error.retryable : !(error instanceof ReplyTooLargeError),
    },
  ).catch((error: unknown) => {
    // The request token travels in a header: no message names it.
    const refused = error instanceof HttpError && (error.status === 401 || error.status === 403);
    const hint = refused ? '; the step needs the ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN of its own job' : '';
    throw new UserError(`GitHub OIDC: the ID token request failed: ${messageOf(error)}${hint}`);
  });
  let value: unknown;
  try {
    value = (JSON.parse(body.toString('utf8')) as { value?: unknown }).value;
  } catch {
    // Reported below, as for an answer without the field.
  }
  if (typeof value !== 'string' || !value)
    throw new UserError(`GitHub OIDC: the answer of ${new URL(url).origin} holds no ID token`);
  return value;
}
