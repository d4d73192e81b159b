import { UserError } from '../errors.js';
import type { Inputs } from '../config/inputs.js';

export const CREDENTIAL_MODES = [
  'auto',
  'github-oidc',
  'client-secret',
  'access-token',
  'azure-cli',
  'managed-identity',
] as const;
export type CredentialMode = (typeof CREDENTIAL_MODES)[number];

export interface CredentialSettings {
  readonly mode: CredentialMode;
  readonly tenantId?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly accessToken?: string;
}

/** The Azure sign-in the inputs ask for, shared by the key stores in Azure. */
export function credentialSettings(inputs: Inputs): CredentialSettings {
  const mode = (inputs['azure-credential'] || 'auto') as CredentialMode;
  if (!CREDENTIAL_MODES.includes(mode)) {
    throw new UserError(`azure-credential: "${mode}" is not one of ${CREDENTIAL_MODES.join(', ')}`);
  }
  return {
    mode,
    tenantId: inputs['azure-tenant-id'] || undefined,
    clientId: inputs['azure-client-id'] || undefined,
    clientSecret: inputs['azure-client-secret'] || undefined,
    accessToken: inputs['azure-access-token'] || undefined,
  };
}
