import { UserError } from '../errors.js';
import type { LocalKeyOptions } from '../signers/local-signer.js';
import type { Inputs } from './inputs.js';

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

export interface KeyVaultSettings {
  readonly vaultUrl: string;
  readonly certificateName: string;
  readonly certificateVersion?: string;
  readonly credential: CredentialSettings;
}

/** Where the signing key lives: a local file, or an Azure Key Vault (HSM) key. */
export type KeySource =
  | { readonly kind: 'local'; readonly local: LocalKeyOptions }
  | { readonly kind: 'key-vault'; readonly vault: KeyVaultSettings };

function localKey(inputs: Inputs): LocalKeyOptions | undefined {
  const certificateFile = inputs['certificate-file'];
  const privateKeyFile = inputs['private-key-file'];
  const pfxFile = inputs['pfx-file'];
  if (pfxFile && (certificateFile || privateKeyFile)) {
    throw new UserError(
      'pfx-file and certificate-file / private-key-file both name a local key: give either pfx-file, or certificate-file with private-key-file, not both',
    );
  }
  if (pfxFile) return { pfxFile, pfxPassword: inputs['pfx-password'] ?? '' };
  if (certificateFile && privateKeyFile) return { certificateFile, privateKeyFile };
  if (certificateFile || privateKeyFile) {
    throw new UserError(
      `${certificateFile ? 'private-key-file' : 'certificate-file'} is missing: a local PEM key needs both certificate-file (the chain) and private-key-file; give it, or use pfx-file`,
    );
  }
  return undefined;
}

function vaultUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(
      `azure-key-vault-url: "${value}" is not a URL (expected https://NAME.vault.azure.net)`,
    );
  }
  if (url.protocol !== 'https:')
    throw new UserError(`azure-key-vault-url: "${value}" must use https (https://NAME.vault.azure.net)`);
  return url.origin;
}

function credential(inputs: Inputs): CredentialSettings {
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

export function keySource(inputs: Inputs): KeySource {
  const local = localKey(inputs);
  const url = inputs['azure-key-vault-url'];
  const certificate = inputs['azure-key-vault-certificate'];
  if (local && (url || certificate)) {
    throw new UserError(
      'give either a Key Vault (azure-key-vault-url) or a local key (certificate-file / pfx-file), not both',
    );
  }
  if (local) return { kind: 'local', local };
  if (url && certificate) {
    return {
      kind: 'key-vault',
      vault: {
        vaultUrl: vaultUrl(url),
        certificateName: certificate,
        certificateVersion: inputs['azure-key-vault-certificate-version'] || undefined,
        credential: credential(inputs),
      },
    };
  }
  if (url || certificate) {
    throw new UserError(
      `${url ? 'azure-key-vault-certificate' : 'azure-key-vault-url'} is missing: Key Vault signing needs both azure-key-vault-url and azure-key-vault-certificate`,
    );
  }
  throw new UserError(
    'no signing key: give azure-key-vault-url with azure-key-vault-certificate, or certificate-file with private-key-file, or pfx-file',
  );
}
