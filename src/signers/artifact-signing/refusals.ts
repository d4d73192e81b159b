import { signInFailure, firstLine } from '../../credentials/sign-in-failure.js';
import { UserError } from '../../errors.js';
import { HttpError } from '../../io/http-error.js';
import type { ArtifactSigningTarget } from './sign-client.js';

/** The role's names, newest first: older assignments still carry the earlier ones. */
const SIGNER_ROLES = [
  'Artifact Signing Certificate Profile Signer',
  'Trusted Signing Certificate Profile Signer',
  'Code Signing Certificate Profile Signer',
];

/** A refusal that every further call would meet too (the token, the role, the account or profile). */
export function refusesEveryCall(error: unknown): boolean {
  return error instanceof HttpError && [401, 403, 404].includes(error.status);
}

/** The service's errors as what a release engineer can act on; 403 comes with an empty body. */
export function explain(error: unknown, target: ArtifactSigningTarget): Error {
  const what = `certificate profile "${target.profile}" of Artifact Signing account "${target.account}" at ${target.endpoint}`;
  if (error instanceof HttpError) {
    if (error.status === 403) {
      return new UserError(
        `signing with ${what} was refused (HTTP 403); check in turn: ` +
          `(1) the identity signing in has the role "${SIGNER_ROLES[0]}" (formerly "${SIGNER_ROLES[1]}" or "${SIGNER_ROLES[2]}") on the certificate profile or the account; ` +
          `(2) the endpoint is the account's region: its Account URI in the Azure portal (e.g. https://eus.codesigning.azure.net for East US) — another region's endpoint answers 403; ` +
          '(3) the identity validation is completed and the certificate profile is active (not revoked, not recreated since the role was granted); ' +
          '(4) a role assigned in the last minutes may not be in effect yet: wait a few minutes and run again',
      );
    }
    if (error.status === 404) {
      return new UserError(
        `${what}: not found (HTTP 404); check the account name (artifact-signing-account / trusted-signing-account-name), the certificate profile name (artifact-signing-certificate-profile / certificate-profile-name) and that the endpoint is the account's region`,
      );
    }
    if (error.status === 401)
      return new UserError(
        `${what} refused the token (HTTP 401): ${firstLine(error)}; is it the right tenant?`,
      );
    return new UserError(`signing with ${what} failed: ${error.message}`);
  }
  const signIn = signInFailure(error);
  if (signIn) return signIn;
  return error instanceof UserError
    ? error
    : new UserError(`signing with ${what} failed: ${firstLine(error)}`);
}
