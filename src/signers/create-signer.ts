import type { X509Certificate } from 'node:crypto';
import type { SignConfig } from '../config/sign-config.js';
import type { CredentialEnvironment } from '../credentials/azure-credential.js';
import { checkSigningCertificate } from './certificate-checks.js';
import { fetchIssuers, readAdditionalCertificates } from './issuer-chain.js';
import { loadLocalSigner } from './local-signer.js';
import type { Signer } from './signer.js';

export interface ReadySigner {
  readonly signer: Signer;
  readonly certificate: X509Certificate;
  /** What the run should warn about (e.g. a chain it could not complete). */
  readonly warnings: string[];
  readonly description: string;
}

/**
 * The signer the configuration names, checked and ready before any file is touched. `signal` (the
 * run's deadline) cancels the set-up's network calls.
 */
export async function createSigner(
  config: SignConfig,
  context: CredentialEnvironment,
  signal?: AbortSignal,
): Promise<ReadySigner> {
  const warnings: string[] = [];
  if (config.key.kind === 'local') {
    const signer = await loadLocalSigner(config.key.local);
    const certificate = checkSigningCertificate(signer.certificates[0], 'the local signing certificate');
    return { signer, certificate, warnings, description: 'local key' };
  }
  const { vault } = config.key;
  // The Azure SDK is most of the bundle: loaded only when a vault is used, so local runs start fast.
  const [{ createCredential }, { loadKeyVaultSigner }] = await Promise.all([
    import('../credentials/azure-credential.js'),
    import('./key-vault-signer.js'),
  ]);
  const { credential, mode } = createCredential(vault.credential, context, signal);
  const signer = await loadKeyVaultSigner(vault, credential, {
    signal,
    chain: async (leaf) => {
      if (config.additionalCertificates) return readAdditionalCertificates(config.additionalCertificates);
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
}
