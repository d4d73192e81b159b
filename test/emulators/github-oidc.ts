import { randomBytes, randomUUID } from 'node:crypto';
import type { TestPki } from '../pki.js';
import { startHttps, json, type Handler } from './https-server.js';
import { JwtIssuer } from './jwt.js';

export interface GithubOidc {
  readonly issuer: string;
  readonly jwt: JwtIssuer;
  /** ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN, as the runner sets them for jobs with id-token: write. */
  readonly requestUrl: string;
  readonly requestToken: string;
  /** Every ID token handed out, to prove none leaks into logs. */
  readonly issued: string[];
  close(): Promise<void>;
}

/** GitHub's OIDC token service for a job: bearer-checked token endpoint plus discovery and JWKS. */
/**
 * `options.subject` and `options.jwksStatus` are read per request, so a test can act as another branch
 * or take the issuer's keys away.
 */
export async function startGithubOidc(
  pki: TestPki,
  /** The job's subject claim, e.g. repo:acme/app:ref:refs/heads/main; `claims` adds more (ref, environment, …). */
  options: {
    subject: string;
    claims?: Record<string, unknown>;
    /** Listen on this port (absent: a free one), e.g. to come back where a closed emulator was. */
    port?: number;
    /** When set, the JWKS answers this status and no keys (the discovery document still answers). */
    jwksStatus?: number;
  },
): Promise<GithubOidc> {
  const jwt = new JwtIssuer();
  const requestToken = randomBytes(24).toString('hex');
  const issued: string[] = [];
  let issuer = '';
  const handler: Handler = (request, _body, response) => {
    const url = new URL(request.url ?? '/', issuer);
    if (url.pathname === '/.well-known/openid-configuration')
      return json(response, 200, { issuer, jwks_uri: `${issuer}/.well-known/jwks` });
    if (url.pathname === '/.well-known/jwks')
      return options.jwksStatus
        ? json(response, options.jwksStatus, { message: 'keys unavailable' })
        : json(response, 200, jwt.jwks());
    if (url.pathname !== '/token') return json(response, 404, { message: 'not found' });
    if (request.headers.authorization !== `Bearer ${requestToken}`)
      return json(response, 401, { message: 'bad runtime token' });
    const audience = url.searchParams.get('audience');
    if (!audience) return json(response, 400, { message: 'audience missing' });
    const now = Math.floor(Date.now() / 1000);
    const token = jwt.issue({
      iss: issuer,
      aud: audience,
      sub: options.subject,
      repository: options.subject.split(':')[1],
      jti: randomUUID(),
      iat: now,
      nbf: now - 5,
      exp: now + 300,
      ...options.claims,
    });
    issued.push(token);
    json(response, 200, { value: token });
  };
  const running = await startHttps(pki, handler, options.port);
  issuer = `https://localhost:${running.port}`;
  return {
    issuer,
    jwt,
    requestUrl: `${issuer}/token?api-version=2.0`,
    requestToken,
    issued,
    close: () => running.close(),
  };
}
