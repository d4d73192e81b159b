import { createHash, randomBytes, type X509Certificate } from 'node:crypto';
import type { TokenCredential } from '@azure/core-auth';
import { CertificateClient } from '@azure/keyvault-certificates';
import { CryptographyClient } from '@azure/keyvault-keys';
import type { HashAlgorithm } from '../authenticode/algorithms.js';
import type { KeyVaultSettings } from './key-vault-key-store.js';
import { UserError } from '../errors.js';
import { boundedHttpClient } from '../io/bounded-http-client.js';
import { ThrottleGate } from './throttle-gate.js';
import { firstLine, signInFailure } from '../credentials/sign-in-failure.js';
import { checkSigningCertificate } from './certificate-checks.js';
import { throttlingPolicy } from './throttling-policy.js';
import { verifyDigestSignature } from './digest-signature.js';
import { keyVaultScheme } from './key-vault-algorithm.js';
import type { Signer } from './signer.js';

export interface KeyVaultSigner extends Signer {
  readonly certificate: X509Certificate;
}

/**
 * Client options: the SDK retries failures with backoff; throttling goes through the vault's gate;
 * every reply is capped and timed. Each call passes the run's AbortSignal, which ends its retries.
 */
function clientOptions(gate: ThrottleGate) {
  return {
    retryOptions: { maxRetries: 8, retryDelayInMs: 500, maxRetryDelayInMs: 30_000 },
    additionalPolicies: [{ policy: throttlingPolicy(gate), position: 'perRetry' as const }],
    httpClient: boundedHttpClient(),
  };
}

/** Turns the SDK's errors into what a release engineer can act on. */
function explain(error: unknown, action: string, settings: KeyVaultSettings, role: string): Error {
  const status = (error as { statusCode?: number }).statusCode;
  const where = `${settings.certificateName} in ${settings.vaultUrl}`;
  if (status === 403) {
    return new UserError(
      `${action} ${where} was refused (HTTP 403): the identity lacks the permission; grant it the role "${role}"`,
    );
  }
  if (status === 404)
    return new UserError(`${action} ${where}: not found (HTTP 404); check the vault URL, name and version`);
  if (status === 401)
    return new UserError(`${action} ${where}: the vault refused the token (HTTP 401): ${firstLine(error)}`);
  const signIn = signInFailure(error);
  if (signIn) return signIn;
  return error instanceof UserError ? error : new UserError(`${action} ${where} failed: ${firstLine(error)}`);
}

/**
 * A signer whose key stays in Azure Key Vault: the certificate is fetched once per run and checked
 * (validity, code signing, key match through a probe signature) before any file is touched.
 * `signal` (the run's deadline) ends this set-up, SDK retries included.
 */
export async function loadKeyVaultSigner(
  settings: KeyVaultSettings,
  credential: TokenCredential,
  options: { chain: (leaf: Buffer) => Promise<Buffer[]>; signal?: AbortSignal },
): Promise<KeyVaultSigner> {
  const { signal } = options;
  const gate = new ThrottleGate();
  const certificates = new CertificateClient(settings.vaultUrl, credential, clientOptions(gate));
  const bundle = await (
    settings.certificateVersion
      ? certificates.getCertificateVersion(settings.certificateName, settings.certificateVersion, {
          abortSignal: signal,
        })
      : certificates.getCertificate(settings.certificateName, { abortSignal: signal })
  ).catch((error: unknown) => {
    throw explain(error, 'reading certificate', settings, 'Key Vault Certificate User');
  });
  if (!bundle.cer || !bundle.keyId)
    throw new UserError(
      `certificate ${settings.certificateName} has no public certificate or key in the vault`,
    );
  if (bundle.properties.enabled === false)
    throw new UserError(`certificate ${settings.certificateName} is disabled in the vault`);
  const leaf = Buffer.from(bundle.cer);
  const certificate = checkSigningCertificate(leaf, `Key Vault certificate ${settings.certificateName}`);
  const scheme = keyVaultScheme(certificate, settings.certificateName);
  const crypto = new CryptographyClient(bundle.keyId, credential, clientOptions(gate));

  const signDigest = async (hash: HashAlgorithm, digest: Buffer, signal?: AbortSignal): Promise<Buffer> => {
    const { algorithm, value } = scheme.request(hash, digest);
    const result = await crypto.sign(algorithm, value, { abortSignal: signal }).catch((error: unknown) => {
      throw explain(error, 'signing with the key of', settings, 'Key Vault Crypto User');
    });
    return scheme.signature(result.result);
  };

  // One probe signature, with the key's own algorithm, proves the sign permission and that the vault
  // key is the certificate's.
  const probe = createHash(scheme.probeHash).update(randomBytes(32)).digest();
  const probeSignature = await signDigest(scheme.probeHash, probe, signal);
  if (!verifyDigestSignature(certificate.publicKey, scheme.probeHash, probe, probeSignature)) {
    throw new UserError(
      `the key of ${settings.certificateName} in ${settings.vaultUrl} does not match its certificate`,
    );
  }

  const chain = [leaf, ...(await options.chain(leaf))];
  return {
    certificate,
    signDigest: async (hash, digest, signal) => ({
      signature: await signDigest(hash, digest, signal),
      certificates: chain,
    }),
  };
}
