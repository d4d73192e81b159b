import { UserError, messageOf } from '../errors.js';

export function firstLine(error: unknown): string {
  return (
    messageOf(error)
      .split('\n')
      .find((l) => l.trim()) ?? 'unknown error'
  );
}

/** An Entra ID sign-in that failed, as a release engineer can act on it; undefined for other errors. */
export function signInFailure(error: unknown): UserError | undefined {
  const name = (error as { name?: string }).name ?? '';
  const entra = /AADSTS\d+:.*?(?= - [A-Z][a-z]+ ID:|$)/.exec(messageOf(error).replace(/\s+/g, ' '));
  if (!entra && !/AuthenticationError|CredentialUnavailableError/.test(name)) return undefined;
  const hint = entra?.[0].startsWith('AADSTS700213')
    ? ' (add a federated credential for this subject to the app registration, or run from a branch, tag or environment it names)'
    : '';
  return new UserError(`Azure sign-in failed: ${entra ? entra[0].trim() : firstLine(error)}${hint}`);
}
