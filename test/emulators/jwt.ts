import { generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

/** An RS256 JWT issuer with its own key, as GitHub's OIDC provider and Entra ID are. */
export class JwtIssuer {
  readonly keyId = randomUUID();
  private readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;

  constructor() {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey;
  }

  issue(claims: Record<string, unknown>): string {
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: this.keyId })).toString(
      'base64url',
    );
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const signature = sign('sha256', Buffer.from(`${header}.${body}`), this.privateKey).toString('base64url');
    return `${header}.${body}.${signature}`;
  }

  jwks() {
    return {
      keys: [
        {
          ...this.publicKey.export({ format: 'jwk' }),
          kid: this.keyId,
          use: 'sig',
          alg: 'RS256',
        },
      ],
    };
  }
}

export interface Verified {
  readonly claims: Record<string, unknown>;
}

/** Checks signature and expiry of a JWT against a public key; returns its claims or the problem. */
export function verifyJwt(token: string, key: KeyObject, now = Date.now()): Verified | { problem: string } {
  const parts = token.split('.');
  if (parts.length !== 3) return { problem: 'not a JWT' };
  const [header, body, signature] = parts;
  const header_ = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: string };
  if (header_.alg !== 'RS256') return { problem: `unexpected alg ${header_.alg}` };
  if (!verify('sha256', Buffer.from(`${header}.${body}`), key, Buffer.from(signature, 'base64url'))) {
    return { problem: 'bad signature' };
  }
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) return { problem: 'expired' };
  return { claims };
}
