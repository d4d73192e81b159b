import type { X509Certificate } from 'node:crypto';
import type { SignConfig } from '../config/sign-config.js';
import type { CredentialEnvironment } from '../credentials/azure-credential.js';
import { checkSigningCertificate } from './certificate-checks.js';
import { fetchIssuers, readAdditionalCertificates } from './issuer-chain.js';
import { missingLeafIssuer } from './leaf-issuer.js';
import { loadLocalSigner } from './local-signer.js';
import type { Signer } from './signer.js';

export interface ReadySigner {
  readonly signer: Signer;
  readonly certificate: X509Certificate;
  /** What the run should warn about (e.g. a chain it could not complete). */
  readonly warnings: string[];
  readonly description: string;
}

/** `signer` with additional-certificates added to its chain (those it does not hold already). */
function withCertificates(signer: Signer, extra: readonly Buffer[]): Signer {
  const added = extra.filter((der) => !signer.certificates.some((held) => held.equals(der)));
  return { ...signer, certificates: [...signer.certificates, ...added] };
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
  // Read first, for every key store: a path that does not exist is an error, never silently ignored.
  const additional = config.additionalCertificates
    ? await readAdditionalCertificates(config.additionalCertificates)
    : undefined;
  if (config.key.kind === 'local') {
    const loaded = await loadLocalSigner(config.key.local);
    const signer = additional ? withCertificates(loaded, additional) : loaded;
    const certificate = checkSigningCertificate(signer.certificates[0], 'the local signing certificate');
    const missing = missingLeafIssuer(signer.certificates);
    if (missing) warnings.push(missing);
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
      if (additional) {
        const missing = missingLeafIssuer([leaf, ...additional]);
        if (missing) warnings.push(missing);
        return additional;
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
}
