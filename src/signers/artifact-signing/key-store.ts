import type { InputName, Inputs } from '../../config/inputs.js';
import { credentialSettings } from '../../credentials/credential-settings.js';
import { UserError } from '../../errors.js';
import { checkSigningCertificate } from '../certificate-checks.js';
import { verifyDigestSignature } from '../digest-signature.js';
import { withCertificates, type KeyStore } from '../key-store.js';
import { ARTIFACT_SIGNING_INPUTS } from './inputs.js';
import type { ArtifactSigningTarget } from './sign-client.js';

/** The same input under vaultsign's name first, then the official action's names. */
const NAMES = {
  endpoint: ['artifact-signing-endpoint', 'endpoint'],
  account: ['artifact-signing-account', 'trusted-signing-account-name', 'signing-account-name'],
  profile: ['artifact-signing-certificate-profile', 'certificate-profile-name'],
  correlationId: ['artifact-signing-correlation-id', 'correlation-id'],
} as const satisfies Record<string, readonly InputName[]>;

/** One value given under any of its names; two names with different values are refused. */
function oneOf(inputs: Inputs, names: readonly InputName[]): string | undefined {
  const given = names.filter((n) => inputs[n]).map((n) => ({ name: n, value: String(inputs[n]).trim() }));
  const other = given.find((g) => g.value !== given[0].value);
  if (other) {
    throw new UserError(
      `${given[0].name} ("${given[0].value}") and ${other.name} ("${other.value}") say different things: give one of them`,
    );
  }
  return given[0]?.value;
}

function endpointOf(value: string): string {
  // Without a scheme, as the official action's users often write it; a trailing / used to cause 404s.
  const withScheme = /^[a-z]+:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UserError(
      `artifact-signing-endpoint: "${value}" is not a URL (expected https://REGION.codesigning.azure.net)`,
    );
  }
  if (url.protocol !== 'https:')
    throw new UserError(
      `artifact-signing-endpoint: "${value}" must use https (https://REGION.codesigning.azure.net)`,
    );
  if (url.pathname.replace(/\/+$/, '') || url.search) {
    throw new UserError(
      `artifact-signing-endpoint: "${value}" has a path; give the endpoint alone (https://REGION.codesigning.azure.net)`,
    );
  }
  return url.origin;
}

function targetOf(inputs: Inputs): Omit<ArtifactSigningTarget, 'correlationId'> & { correlationId?: string } {
  const endpoint = oneOf(inputs, NAMES.endpoint);
  const account = oneOf(inputs, NAMES.account);
  const profile = oneOf(inputs, NAMES.profile);
  const missing = [!endpoint && NAMES.endpoint, !account && NAMES.account, !profile && NAMES.profile].filter(
    (m) => m !== false,
  );
  if (missing.length) {
    throw new UserError(
      `${missing.map((m) => m[0]).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing: Artifact Signing needs artifact-signing-endpoint, artifact-signing-account and artifact-signing-certificate-profile (or the official action's endpoint, trusted-signing-account-name and certificate-profile-name)`,
    );
  }
  const correlationId = oneOf(inputs, NAMES.correlationId);
  // It travels as an HTTP header: printable ASCII only.
  if (correlationId && !/^[\x20-\x7e]+$/.test(correlationId)) {
    throw new UserError(
      `artifact-signing-correlation-id: "${correlationId}" holds characters other than printable ASCII; use letters, digits and punctuation`,
    );
  }
  return { endpoint: endpointOf(endpoint!), account: account!, profile: profile!, correlationId };
}

/** The workflow run that asked for the signature, so the service's logs lead back to it. */
function workflowRun(env: NodeJS.ProcessEnv): string | undefined {
  const {
    GITHUB_REPOSITORY: repository,
    GITHUB_SHA: sha,
    GITHUB_RUN_ID: run,
    GITHUB_RUN_ATTEMPT: attempt,
  } = env;
  if (!repository || !run) return undefined;
  return `${repository}@${sha ?? ''} run ${run} attempt ${attempt ?? '1'}`;
}

/**
 * Azure Artifact Signing (formerly Trusted Signing): one service call per file, whose answer brings
 * the signature and the certificate chain of the key that made it; the certificate lives 3 days and
 * may change during a run.
 */
export const artifactSigningKeyStore: KeyStore = {
  name: 'Azure Artifact Signing',
  inputs: [...NAMES.endpoint, ...NAMES.account, ...NAMES.profile],
  configure(inputs, notes) {
    const target = targetOf(inputs);
    const credential = credentialSettings(inputs);
    const ignored = (Object.keys(ARTIFACT_SIGNING_INPUTS) as InputName[]).filter(
      (n) => n.startsWith('exclude-') && inputs[n] !== undefined,
    );
    if (ignored.length) {
      notes.push(
        `${ignored.join(', ')}: accepted from the official action and ignored: vaultsign signs in as azure-credential says (${credential.mode})`,
      );
    }
    return {
      timestamp: {
        requiredBecause:
          'Artifact Signing certificates are valid for 3 days, and a signature without a timestamp stops being valid with its certificate',
        preferredUrls: ['http://timestamp.acs.microsoft.com'],
      },
      async open(context) {
        // The Azure SDK is most of the bundle: loaded only when a cloud key store is used.
        const [{ createCredential }, { ArtifactSigningClient }, { explain, refusesEveryCall }, bag] =
          await Promise.all([
            import('../../credentials/azure-credential.js'),
            import('./sign-client.js'),
            import('./refusals.js'),
            import('./certificate-bag.js'),
          ]);
        const { credential: tokens, mode } = createCredential(credential, context, context.signal);
        const full = { ...target, correlationId: target.correlationId ?? workflowRun(context.env) };
        const client = new ArtifactSigningClient(full, tokens);
        // Once the service refused for good, the other files fail with its reason, without a call each.
        let refused: Error | undefined;
        const chains = new bag.AnswerChains((chain) => {
          checkSigningCertificate(chain[0], 'the Artifact Signing certificate');
          return withCertificates(chain, context.additionalCertificates);
        });
        return {
          signer: {
            async signDigest(hash, digest, signal) {
              if (refused) throw refused;
              const answer = await client.sign(hash, digest, signal).catch((error: unknown) => {
                const explained = explain(error, full);
                if (refusesEveryCall(error)) refused = explained;
                throw explained;
              });
              const certificates = chains.of(answer.signingCertificate, (key) =>
                verifyDigestSignature(key, hash, digest, answer.signature),
              );
              return { signature: answer.signature, certificates };
            },
          },
          warnings: [],
          description: `Azure Artifact Signing ${full.endpoint}, account ${full.account}, certificate profile ${full.profile} (${mode})`,
        };
      },
    };
  },
};
