import { createHash, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import { messageOf } from '../errors.js';
import { boundedFetch, boundedRequest } from '../io/bounded-fetch.js';
import { printable } from '../io/http-error.js';
import type { Access, ClientToken } from './config.js';

/** The claims of a GitHub ID token the audit log keeps: who ran what, never the token. */
export const AUDITED_CLAIMS = [
  'repository',
  'ref',
  'environment',
  'workflow',
  'job_workflow_ref',
  'run_id',
  'actor',
  'sub',
] as const;

export type Caller =
  | { readonly kind: 'token'; readonly name: string }
  | { readonly kind: 'github-oidc'; readonly claims: Readonly<Record<string, string>> };

/** Who the rate limit counts: a static token by name, a workflow by its repository. */
export function callerKey(caller: Caller): string {
  return caller.kind === 'token'
    ? `token:${caller.name}`
    : `repository:${caller.claims.repository ?? caller.claims.sub ?? ''}`;
}

/** A request the server will not serve: 401 (who are you?), 403 (not you), 503 (cannot check now). */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly status: 401 | 403 | 503,
    message: string,
    /** Who asked, when the token proved it. */
    readonly caller?: Caller,
  ) {
    super(message);
  }
}

const DISCOVERY_LIMITS = {
  maxBytes: 64 << 10,
  firstByteMs: 10_000,
  totalMs: 20_000,
  hint: 'is oidc.issuer an OpenID Connect issuer?',
};

/** The issuer's signing keys, found through its discovery document; a failed lookup is tried again on the next request. */
function issuerKeys(issuer: string): () => Promise<ReturnType<typeof createRemoteJWKSet>> {
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  return () => {
    keys ??= (async () => {
      const url = `${issuer}/.well-known/openid-configuration`;
      const document = JSON.parse((await boundedFetch(url, {}, DISCOVERY_LIMITS)).toString('utf8')) as {
        jwks_uri?: unknown;
      };
      if (typeof document.jwks_uri !== 'string' || !document.jwks_uri.startsWith('https://'))
        throw new Error(`${url} names no https jwks_uri`);
      return createRemoteJWKSet(new URL(document.jwks_uri), {
        // The key set is read within limits too, and a refusal says its status.
        [customFetch]: async (url: string, init: RequestInit) => {
          const { status, headers, body } = await boundedRequest(
            url,
            { headers: init.headers },
            DISCOVERY_LIMITS,
          );
          return new Response(new Uint8Array(body), { status, headers });
        },
      });
    })().catch((error: unknown) => {
      keys = undefined;
      throw error;
    });
    return keys;
  };
}

/** Constant-time: every stored hash is compared, whichever matches. */
function staticCaller(presented: string, tokens: readonly ClientToken[]): Caller | undefined {
  const hash = createHash('sha256').update(presented, 'utf8').digest();
  let found: ClientToken | undefined;
  for (const token of tokens) if (timingSafeEqual(hash, token.sha256) && !found) found = token;
  return found && { kind: 'token', name: found.name };
}

function claimText(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

/** Passes when every claim of one entry has its value; else names, per entry, the claims that differ. */
function checkAllowList(payload: JWTPayload, access: Access, caller: Caller): void {
  const misses = access.allow.map((entry) =>
    Object.entries(entry)
      .filter(([claim, wanted]) => claimText(payload[claim]) !== wanted)
      .map(([claim]) => claim),
  );
  if (misses.some((differing) => differing.length === 0)) return;
  const shown = (claim: string) => {
    const value = claimText(payload[claim]);
    return value === undefined ? `${claim} (absent)` : `${claim}: ${printable(value, 200)}`;
  };
  const fewest = Math.min(...misses.map((m) => m.length));
  const nearest = [...new Set(misses.filter((m) => m.length === fewest).flat())];
  throw new Refusal(
    403,
    `no allow-list entry admits this token (${nearest.map(shown).join(', ')}); the claims that differ, per entry: ${misses.map((m, i) => `${i + 1}: ${m.join(', ')}`).join('; ')}`,
    caller,
  );
}

function oidcCaller(payload: JWTPayload): Caller {
  const claims: Record<string, string> = {};
  for (const name of AUDITED_CLAIMS) {
    const value = claimText(payload[name]);
    if (value !== undefined) claims[name] = value;
  }
  return { kind: 'github-oidc', claims };
}

function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

/** Why jose refused a token, in words for the caller (never the token itself). */
function whyInvalid(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim}: ${error.reason}`;
  if (error instanceof errors.JWKSNoMatchingKey) return "no key of the issuer's JWKS matches the token";
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the signature does not verify';
  return messageOf(error);
}

/** Checks `Authorization: Bearer …` against the access rules: a static token, or a GitHub OIDC ID token. */
export class Authenticator {
  private readonly keys?: ReturnType<typeof issuerKeys>;

  constructor(
    readonly access: Access,
    /** The authenticator this one replaces (a reload): its issuer keys are kept when the issuer is the same. */
    previous?: Authenticator,
  ) {
    const issuer = access.oidc?.issuer;
    if (issuer) this.keys = previous?.access.oidc?.issuer === issuer ? previous.keys : issuerKeys(issuer);
  }

  async authenticate(header: string | undefined): Promise<Caller> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (!token) throw new Refusal(401, 'no bearer token: send Authorization: Bearer <token>');
    const known = staticCaller(token, this.access.tokens);
    if (known) return known;
    const oidc = this.access.oidc;
    if (!oidc || !this.keys || !looksLikeJwt(token))
      throw new Refusal(401, 'the token is not one this server knows');
    let claimed: JWTPayload;
    try {
      claimed = decodeJwt(token);
    } catch {
      throw new Refusal(401, 'the token is not a readable JWT');
    }
    // Checked first only to say so plainly: the signature check below decides.
    if (claimed.iss !== oidc.issuer)
      throw new Refusal(
        401,
        `the token's issuer ${printable(String(claimed.iss), 200)} is not ${oidc.issuer}`,
      );
    let keys: Awaited<ReturnType<typeof this.keys>>;
    try {
      keys = await this.keys();
    } catch (error) {
      throw new Refusal(503, `cannot read the signing keys of ${oidc.issuer}: ${messageOf(error)}`);
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: oidc.issuer,
        audience: oidc.audience,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'iat'],
        clockTolerance: 5,
      }));
    } catch (error) {
      // Failing to fetch the keys (a network error, not a JOSE one) is not the caller's fault.
      const unreachable = !(error instanceof errors.JOSEError) || error instanceof errors.JWKSTimeout;
      if (unreachable || error instanceof errors.JWKSInvalid)
        throw new Refusal(503, `cannot read the signing keys of ${oidc.issuer}: ${messageOf(error)}`);
      throw new Refusal(401, `the ID token is refused: ${whyInvalid(error)}`);
    }
    const caller = oidcCaller(payload);
    checkAllowList(payload, this.access, caller);
    return caller;
  }
}
