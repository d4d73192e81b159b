import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import {
  AzureCliCredential,
  ChainedTokenCredential,
  ClientAssertionCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
} from '@azure/identity';
import type { CredentialSettings } from './credential-settings.js';
import { PERMISSIONS_HINT } from './github-id-token.js';
import { UserError } from '../errors.js';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { boundedHttpClient } from '../io/bounded-http-client.js';

/** What the credential needs from its surroundings: the Action supplies GitHub's, the CLI its own. */
export interface CredentialEnvironment {
  readonly env: NodeJS.ProcessEnv;
  /** Masks a secret in the log before it is used. */
  mask(secret: string): void;
  /** Fetches a GitHub OIDC ID token for `audience` (the Action's core.getIDToken). */
  getIdToken?(audience: string): Promise<string>;
}

const FEDERATION_AUDIENCE = 'api://AzureADTokenExchange';
const PUBLIC_AUTHORITIES = [
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
];

/**
 * Options shared by the Entra credentials. An authority outside Microsoft's clouds (Azure Stack, a
 * sovereign or private authority named by AZURE_AUTHORITY_HOST) cannot be checked by instance
 * discovery, which asks the public cloud, so discovery is off for it. MSAL does not pass a call's
 * AbortSignal on to its requests: the HTTP client ends them on the run's signal.
 */
function entraOptions(env: NodeJS.ProcessEnv, httpClient: HttpClient) {
  const authorityHost = env.AZURE_AUTHORITY_HOST;
  const known = !authorityHost || PUBLIC_AUTHORITIES.includes(new URL(authorityHost).hostname);
  return {
    authorityHost,
    disableInstanceDiscovery: !known,
    httpClient,
  };
}

function required(settings: CredentialSettings, mode: string): { tenantId: string; clientId: string } {
  const missing = [!settings.tenantId && 'azure-tenant-id', !settings.clientId && 'azure-client-id'].filter(
    Boolean,
  );
  if (missing.length) throw new UserError(`azure-credential ${mode} needs ${missing.join(' and ')}`);
  return { tenantId: settings.tenantId!, clientId: settings.clientId! };
}

/** JWT expiry, so a given access token is not offered after it ran out. */
function expiryOf(token: string): number {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as {
      exp?: number;
    };
    if (typeof payload.exp === 'number') return payload.exp * 1000;
  } catch {
    // Not a JWT: assume the usual hour.
  }
  return Date.now() + 3600_000;
}

function staticToken(token: string): TokenCredential {
  return { getToken: async () => ({ token, expiresOnTimestamp: expiryOf(token) }) };
}

function githubOidc(
  settings: CredentialSettings,
  context: CredentialEnvironment,
  httpClient: HttpClient,
): TokenCredential {
  const { tenantId, clientId } = required(settings, 'github-oidc');
  if (
    !context.env.ACTIONS_ID_TOKEN_REQUEST_URL ||
    !context.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ||
    !context.getIdToken
  ) {
    throw new UserError(
      `GitHub OIDC is not available to this job: it lacks the id-token permission; ${PERMISSIONS_HINT}`,
    );
  }
  const getIdToken = context.getIdToken;
  // A fresh ID token for every assertion: they live minutes, signing runs may last longer.
  return new ClientAssertionCredential(
    tenantId,
    clientId,
    async () => {
      const idToken = await getIdToken(FEDERATION_AUDIENCE);
      context.mask(idToken);
      return idToken;
    },
    entraOptions(context.env, httpClient),
  );
}

function chooseMode(settings: CredentialSettings, env: NodeJS.ProcessEnv): CredentialSettings['mode'] {
  if (settings.mode !== 'auto') return settings.mode;
  if (settings.accessToken) return 'access-token';
  if (settings.clientSecret) return 'client-secret';
  if (settings.tenantId && settings.clientId && env.ACTIONS_ID_TOKEN_REQUEST_URL) return 'github-oidc';
  if (env.GITHUB_ACTIONS === 'true' && settings.tenantId && settings.clientId) {
    throw new UserError(
      `azure-credential auto: the job cannot request a GitHub OIDC token (no id-token permission); ${PERMISSIONS_HINT}\n` +
        'or give azure-client-secret, or azure-credential: azure-cli after azure/login',
    );
  }
  return 'azure-cli';
}

/**
 * The token credential for the Azure key stores, per azure-credential; every token it hands out is masked
 * first. `signal` (the run's deadline) ends its requests still in flight.
 */
export function createCredential(
  settings: CredentialSettings,
  context: CredentialEnvironment,
  signal?: AbortSignal,
): { credential: TokenCredential; mode: string } {
  if (settings.clientSecret) context.mask(settings.clientSecret);
  if (settings.accessToken) context.mask(settings.accessToken);
  const mode = chooseMode(settings, context.env);
  const httpClient = boundedHttpClient({ signal });
  let inner: TokenCredential;
  switch (mode) {
    case 'access-token':
      if (!settings.accessToken)
        throw new UserError('azure-credential access-token needs azure-access-token');
      inner = staticToken(settings.accessToken);
      break;
    case 'client-secret': {
      const { tenantId, clientId } = required(settings, 'client-secret');
      if (!settings.clientSecret)
        throw new UserError('azure-credential client-secret needs azure-client-secret');
      inner = new ClientSecretCredential(
        tenantId,
        clientId,
        settings.clientSecret,
        entraOptions(context.env, httpClient),
      );
      break;
    }
    case 'github-oidc':
      inner = githubOidc(settings, context, httpClient);
      break;
    case 'managed-identity':
      inner = new ManagedIdentityCredential({
        ...(settings.clientId ? { clientId: settings.clientId } : {}),
        httpClient,
      });
      break;
    case 'azure-cli':
    default:
      inner =
        settings.mode === 'auto'
          ? new ChainedTokenCredential(
              new AzureCliCredential({ tenantId: settings.tenantId }),
              new ManagedIdentityCredential({ httpClient }),
            )
          : new AzureCliCredential({ tenantId: settings.tenantId });
  }
  const credential: TokenCredential = {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const token = await inner.getToken(scopes, options);
      if (token) context.mask(token.token);
      return token;
    },
  };
  return { credential, mode };
}
