import type { Inputs } from '../config/inputs.js';
import { credentialSettings, type CredentialSettings } from '../credentials/credential-settings.js';
import { UserError } from '../errors.js';
import { fetchIssuers } from './issuer-chain.js';
import type { KeyStore } from './key-store.js';
import { missingLeafIssuer } from './leaf-issuer.js';

export interface KeyVaultSettings {
  readonly vaultUrl: string;
  readonly certificateName: string;
  readonly certificateVersion?: string;
  readonly credential: CredentialSettings;
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

function settingsOf(inputs: Inputs): KeyVaultSettings {
  const url = inputs['azure-key-vault-url'];
  const certificate = inputs['azure-key-vault-certificate'];
  if (!url || !certificate) {
    throw new UserError(
      `${url ? 'azure-key-vault-certificate' : 'azure-key-vault-url'} is missing: Key Vault signing needs both azure-key-vault-url and azure-key-vault-certificate`,
    );
  }
  return {
    vaultUrl: vaultUrl(url),
    certificateName: certificate,
    certificateVersion: inputs['azure-key-vault-certificate-version'] || undefined,
    credential: credentialSettings(inputs),
  };
}

/**
 * A key in Azure Key Vault (HSM): one certificate for the run, read and checked at start; the chain
 * from additional-certificates, or completed through the certificate's AIA.
 */
export const keyVaultKeyStore: KeyStore = {
  name: 'Azure Key Vault',
  inputs: ['azure-key-vault-url', 'azure-key-vault-certificate', 'azure-key-vault-certificate-version'],
  configure(inputs) {
    const vault = settingsOf(inputs);
    return {
      async open(context) {
        const { signal, additionalCertificates: additional } = context;
        // The Azure SDK is most of the bundle: loaded only when a vault is used, so local runs start fast.
        const [{ createCredential }, { loadKeyVaultSigner }] = await Promise.all([
          import('../credentials/azure-credential.js'),
          import('./key-vault-signer.js'),
        ]);
        const warnings: string[] = [];
        const { credential, mode } = createCredential(vault.credential, context, signal);
        const signer = await loadKeyVaultSigner(vault, credential, {
          signal,
          chain: async (leaf) => {
            if (additional) {
              const missing = missingLeafIssuer([leaf, ...additional]);
              if (missing) warnings.push(missing);
              return [...additional];
            }
            const { issuers, problem } = await fetchIssuers(leaf, { signal });
            if (problem) {
              warnings.push(
                `the signatures carry an incomplete certificate chain (${problem}); give additional-certificates with the intermediates`,
              );
            }
            return issuers;
          },
        });
        return {
          signer,
          certificate: signer.certificate,
          warnings,
          description: `Azure Key Vault ${vault.vaultUrl}, certificate ${vault.certificateName} (${mode})`,
        };
      },
    };
  },
};
