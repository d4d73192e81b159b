import { randomUUID } from 'node:crypto';
import type { TestPki } from '../pki.js';
import type { GithubOidc } from './github-oidc.js';
import { stall } from '../hostile-replies.js';
import { startHttps, json } from './https-server.js';
import { JwtIssuer, verifyJwt } from './jwt.js';

export interface AppRegistration {
  readonly clientId: string;
  /** Object ID of its service principal: what Key Vault grants permissions to. */
  readonly objectId: string;
  readonly secret?: string;
  /** Federated credentials: GitHub subjects allowed to sign in as this app. */
  readonly federatedSubjects?: readonly string[];
}

export interface EntraOptions {
  readonly tenantId: string;
  readonly apps: readonly AppRegistration[];
  readonly github?: GithubOidc;
  /** Lifetime of the access tokens it issues (seconds). */
  tokenLifetimeSeconds?: number;
  /** Token requests are accepted and never answered (until the client hangs up). */
  stallTokens?: boolean;
}

export interface EntraId {
  /** AZURE_AUTHORITY_HOST */
  readonly authorityHost: string;
  readonly jwt: JwtIssuer;
  readonly issued: string[];
  readonly tokenRequests: number;
  close(): Promise<void>;
}

/** Scopes it grants, each to its resource's audience (`aud`). */
const AUDIENCES: Record<string, string> = {
  'https://vault.azure.net/.default': 'https://vault.azure.net',
  'https://codesigning.azure.net/.default': 'https://codesigning.azure.net',
};
const FEDERATION_AUDIENCE = 'api://AzureADTokenExchange';

function aadError(status: number, error: string, code: string, description: string) {
  return [
    status,
    { error, error_description: `${code}: ${description}`, error_codes: [Number(code.slice(5))] },
  ] as const;
}

/**
 * Entra ID's v2.0 endpoints for one tenant: OpenID discovery and a client-credentials token endpoint that
 * checks client secrets, or client assertions from GitHub (signature, issuer, audience, expiry, and a
 * federated credential for the subject).
 */
export async function startEntraId(pki: TestPki, options: EntraOptions): Promise<EntraId> {
  const jwt = new JwtIssuer();
  const issued: string[] = [];
  let tokenRequests = 0;
  let host = '';

  const authenticate = (form: URLSearchParams): AppRegistration | readonly [number, object] => {
    const app = options.apps.find((a) => a.clientId === form.get('client_id'));
    if (!app)
      return aadError(
        400,
        'unauthorized_client',
        'AADSTS700016',
        `Application with identifier '${form.get('client_id')}' was not found in the directory.`,
      );
    const assertion = form.get('client_assertion');
    if (assertion) {
      if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
        return aadError(400, 'invalid_request', 'AADSTS50027', 'Invalid client_assertion_type.');
      }
      if (!options.github)
        return aadError(
          401,
          'invalid_client',
          'AADSTS700211',
          'No matching federated identity record found for presented assertion issuer.',
        );
      const checked = verifyJwt(assertion, options.github.jwt.publicKey);
      if ('problem' in checked)
        return aadError(
          401,
          'invalid_client',
          'AADSTS700024',
          `Client assertion is not valid: ${checked.problem}.`,
        );
      const { iss, aud, sub } = checked.claims;
      if (iss !== options.github.issuer)
        return aadError(
          401,
          'invalid_client',
          'AADSTS700211',
          `No matching federated identity record found for presented assertion issuer '${iss}'.`,
        );
      if (aud !== FEDERATION_AUDIENCE)
        return aadError(
          401,
          'invalid_client',
          'AADSTS700212',
          `No matching federated identity record found for presented assertion audience '${aud}'.`,
        );
      if (!app.federatedSubjects?.includes(String(sub))) {
        return aadError(
          401,
          'invalid_client',
          'AADSTS700213',
          `No matching federated identity record found for presented assertion subject '${sub}'.`,
        );
      }
      return app;
    }
    if (form.get('client_secret') !== undefined && form.get('client_secret') === app.secret && app.secret)
      return app;
    return aadError(401, 'invalid_client', 'AADSTS7000215', 'Invalid client secret provided.');
  };

  const running = await startHttps(pki, (request, body, response) => {
    const url = new URL(request.url ?? '/', host);
    const [, tenant, ...rest] = url.pathname.split('/');
    const path = rest.join('/');
    if (tenant !== options.tenantId) {
      return json(response, 400, {
        error: 'invalid_tenant',
        error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
      });
    }
    const base = `${host}/${tenant}`;
    if (path === 'v2.0/.well-known/openid-configuration') {
      return json(response, 200, {
        issuer: `${base}/v2.0`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_types_supported: ['code', 'id_token', 'token'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (path === 'discovery/v2.0/keys') return json(response, 200, jwt.jwks());
    if (path !== 'oauth2/v2.0/token' || request.method !== 'POST')
      return json(response, 404, { error: 'not_found' });
    tokenRequests++;
    if (options.stallTokens) return stall(response);
    const form = new URLSearchParams(body.toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials')
      return json(response, 400, { error: 'unsupported_grant_type' });
    const audience = AUDIENCES[form.get('scope') ?? ''];
    if (!audience) {
      return json(response, 400, {
        error: 'invalid_scope',
        error_description: `AADSTS70011: The provided scope '${form.get('scope')}' is not valid for this emulator.`,
      });
    }
    const app = authenticate(form);
    if (Array.isArray(app)) return json(response, app[0], app[1]);
    const { objectId, clientId } = app as AppRegistration;
    const lifetime = options.tokenLifetimeSeconds ?? 3600;
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.issue({
      iss: `${base}/v2.0`,
      aud: audience,
      tid: tenant,
      oid: objectId,
      appid: clientId,
      iat: now,
      nbf: now - 5,
      exp: now + lifetime,
      uti: randomUUID(),
    });
    issued.push(token);
    json(response, 200, {
      token_type: 'Bearer',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: token,
    });
  });
  host = `https://localhost:${running.port}`;
  return {
    authorityHost: host,
    jwt,
    issued,
    get tokenRequests() {
      return tokenRequests;
    },
    close: () => running.close(),
  };
}
