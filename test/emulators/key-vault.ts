import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { TestPki } from '../pki.js';
import { curveName, ecdsaSignDigestRaw } from './ecdsa-digest-sign.js';
import type { EntraId } from './entra-id.js';
import { endless, stall } from '../hostile-replies.js';
import { json, startHttps } from './https-server.js';
import { verifyJwt } from './jwt.js';
import { pkcs1SignDigest, type DigestHash } from './rsa-digest-sign.js';

export const VAULT_HOST = 'vaultsign-test.vault.azure.net';

export type Permission = 'certificates/get' | 'keys/get' | 'keys/sign';

export interface VaultCertificate {
  readonly name: string;
  /** PEM files: the certificate (first block is used) and the key it was issued for. */
  readonly certificateFile: string;
  readonly keyFile: string;
}

export interface KeyVaultOptions {
  readonly tenantId: string;
  readonly entra: EntraId;
  readonly certificates: readonly VaultCertificate[];
  /** Data-plane permissions per identity (the token's oid). */
  readonly permissions: Readonly<Record<string, readonly Permission[]>>;
  readonly latencyMs?: number;
  /** Sign calls allowed per window; beyond: 429 with Retry-After. */
  readonly rateLimit?: { readonly calls: number; readonly windowMs: number };
  /** The first N sign calls answer 503. */
  readonly failFirst?: number;
  /** The first N sign calls lose their connection. */
  readonly dropFirst?: number;
  /** Sign calls after the first N answer a signature with one bit flipped (a faulty HSM). */
  readonly corruptAfter?: number;
  /** Calls of this kind are accepted and never answered (until the client hangs up). */
  readonly stall?: 'certificate' | 'sign';
  /** The certificate GET answers 200 and a body without end. */
  readonly endlessCertificate?: boolean;
}

export interface KeyVault {
  readonly url: string;
  /** Successful sign calls, per digest: proves nothing was signed twice. */
  readonly signedDigests: Map<string, number>;
  readonly stats: {
    signCalls: number;
    throttled: number;
    failed: number;
    dropped: number;
    unauthorized: number;
  };
  /** When each sign call within the rate limit was accepted (ms since the epoch). */
  readonly acceptedAt: number[];
  close(): Promise<void>;
}

/** The one version every certificate and key of the emulator has. */
export const KEY_VAULT_VERSION = '0123456789abcdef0123456789abcdef';
/**
 * The sign algorithms, as strict as the service: each takes a digest of its hash's length only, and
 * each ECDSA algorithm one curve only (ES512 is P-521's).
 */
const ALGORITHMS: Record<string, { hash: DigestHash; bytes: number; curve?: string }> = {
  RS256: { hash: 'sha256', bytes: 32 },
  RS384: { hash: 'sha384', bytes: 48 },
  RS512: { hash: 'sha512', bytes: 64 },
  ES256: { hash: 'sha256', bytes: 32, curve: 'P-256' },
  ES384: { hash: 'sha384', bytes: 48, curve: 'P-384' },
  ES512: { hash: 'sha512', bytes: 64, curve: 'P-521' },
};

/** Why the service refuses `alg` for `key`, in its words; undefined when they fit. */
function incompatible(kid: string, key: KeyObject, alg: string): string | undefined {
  const { curve } = ALGORITHMS[alg];
  const keyCurve = curveName(key);
  const fits = key.asymmetricKeyType === 'rsa' ? !curve : curve !== undefined && curve === keyCurve;
  if (fits) return undefined;
  const has = key.asymmetricKeyType === 'rsa' ? 'is an RSA key' : `uses curve '${keyCurve}'`;
  const needs = curve ? `can only be used with curve '${curve}'` : 'can only be used with RSA keys';
  return `Key and signing algorithm are incompatible. Key ${kid} ${has}, and algorithm '${alg}' ${needs}.`;
}

interface Loaded {
  readonly name: string;
  readonly der: Buffer;
  readonly x509: X509Certificate;
  readonly key: KeyObject;
}

/** Azure Key Vault's data plane for certificates and key signing, with the real challenge protocol. */
export async function startKeyVault(pki: TestPki, options: KeyVaultOptions): Promise<KeyVault> {
  const loaded: Loaded[] = [];
  for (const c of options.certificates) {
    const x509 = new X509Certificate(await readFile(c.certificateFile));
    loaded.push({ name: c.name, der: x509.raw, x509, key: createPrivateKey(await readFile(c.keyFile)) });
  }
  const signedDigests = new Map<string, number>();
  const stats = { signCalls: 0, throttled: 0, failed: 0, dropped: 0, unauthorized: 0 };
  const accepted: number[] = [];
  const acceptedAt: number[] = [];
  let url = '';
  const challenge = (error?: string) => ({
    'WWW-Authenticate': `Bearer authorization="${options.entra.authorityHost}/${options.tenantId}", resource="https://vault.azure.net"${error ? `, error="${error}"` : ''}`,
  });
  const kvError = (code: string, message: string) => ({ error: { code, message } });

  const running = await startHttps(pki, async (request, body, response) => {
    const auth = request.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ')) {
      stats.unauthorized++;
      return json(
        response,
        401,
        kvError('Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.'),
        challenge(),
      );
    }
    const checked = verifyJwt(auth.slice(7), options.entra.jwt.publicKey);
    if (
      'problem' in checked ||
      checked.claims.aud !== 'https://vault.azure.net' ||
      checked.claims.tid !== options.tenantId
    ) {
      stats.unauthorized++;
      const why = 'problem' in checked ? checked.problem : 'wrong audience or tenant';
      return json(
        response,
        401,
        kvError('Unauthorized', `AKV10032: Invalid token (${why}).`),
        challenge('invalid_token'),
      );
    }
    const identity = String(checked.claims.oid);
    const allowed = (permission: Permission) => options.permissions[identity]?.includes(permission) ?? false;
    const forbidden = (permission: Permission) =>
      json(
        response,
        403,
        kvError(
          'Forbidden',
          `Caller is not authorized to perform action on resource. Action: '${permission}', Caller: oid=${identity}`,
        ),
      );

    const [kind, name, version, operation] = new URL(request.url ?? '/', url).pathname
      .split('/')
      .filter(Boolean);
    const entry = loaded.find((c) => c.name === name);
    if (!entry || (version && version !== KEY_VAULT_VERSION))
      return json(
        response,
        404,
        kvError('NotFound', `A ${kind} with (name/id) ${name} was not found in this key vault.`),
      );
    const attributes = {
      enabled: true,
      nbf: Math.floor(new Date(entry.x509.validFrom).getTime() / 1000),
      exp: Math.floor(new Date(entry.x509.validTo).getTime() / 1000),
      created: 1_700_000_000,
      updated: 1_700_000_000,
      recoveryLevel: 'Recoverable',
    };
    const kid = `${url}/keys/${name}/${KEY_VAULT_VERSION}`;

    if (kind === 'certificates' && request.method === 'GET' && !operation) {
      if (!allowed('certificates/get')) return forbidden('certificates/get');
      if (options.stall === 'certificate') return stall(response);
      if (options.endlessCertificate)
        return void (await endless(response, 200, { 'Content-Type': 'application/json' }));
      return json(response, 200, {
        id: `${url}/certificates/${name}/${KEY_VAULT_VERSION}`,
        kid,
        sid: `${url}/secrets/${name}/${KEY_VAULT_VERSION}`,
        x5t: createHash('sha1').update(entry.der).digest('base64url'),
        cer: entry.der.toString('base64'),
        attributes,
        policy: {
          id: `${url}/certificates/${name}/policy`,
          key_props: {
            exportable: false,
            kty: `${entry.key.asymmetricKeyType === 'ec' ? 'EC' : 'RSA'}-HSM`,
            reuse_key: false,
          },
          attributes: { enabled: true },
        },
      });
    }
    if (kind === 'keys' && request.method === 'GET' && !operation) {
      if (!allowed('keys/get')) return forbidden('keys/get');
      const jwk = entry.x509.publicKey.export({ format: 'jwk' });
      return json(response, 200, {
        key: { ...jwk, kid, kty: `${jwk.kty}-HSM`, key_ops: ['sign', 'verify'] },
        attributes,
      });
    }
    if (kind === 'keys' && request.method === 'POST' && operation === 'sign') {
      if (!allowed('keys/sign')) return forbidden('keys/sign');
      stats.signCalls++;
      if (options.stall === 'sign') return stall(response);
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      if (stats.signCalls <= (options.dropFirst ?? 0)) {
        stats.dropped++;
        request.socket.destroy();
        return;
      }
      if (stats.signCalls <= (options.dropFirst ?? 0) + (options.failFirst ?? 0)) {
        stats.failed++;
        return json(response, 503, kvError('ServiceUnavailable', 'The service is temporarily unavailable.'));
      }
      if (options.rateLimit) {
        const now = Date.now();
        while (accepted.length && accepted[0] <= now - options.rateLimit.windowMs) accepted.shift();
        if (accepted.length >= options.rateLimit.calls) {
          stats.throttled++;
          const retryAfter = Math.max(1, Math.ceil((accepted[0] + options.rateLimit.windowMs - now) / 1000));
          return json(response, 429, kvError('Throttled', 'Rate limit exceeded.'), {
            'Retry-After': String(retryAfter),
          });
        }
        accepted.push(now);
      }
      acceptedAt.push(Date.now());
      const { alg, value } = JSON.parse(body.toString('utf8')) as { alg: string; value: string };
      const algorithm = ALGORITHMS[alg];
      if (!algorithm)
        return json(response, 400, kvError('BadParameter', `The algorithm '${alg}' is not supported.`));
      const mismatch = incompatible(kid, entry.key, alg);
      if (mismatch) return json(response, 400, kvError('BadParameter', mismatch));
      const digest = Buffer.from(value, 'base64url');
      if (digest.length !== algorithm.bytes) {
        const message = `Invalid length of 'value': ${digest.length} bytes. ${alg} requires ${algorithm.bytes} bytes, encoded with base64url.`;
        return json(response, 400, kvError('BadParameter', message));
      }
      const signature =
        entry.key.asymmetricKeyType === 'rsa'
          ? pkcs1SignDigest(entry.key, algorithm.hash, digest)
          : ecdsaSignDigestRaw(entry.key, digest);
      if (options.corruptAfter !== undefined && acceptedAt.length > options.corruptAfter)
        signature[signature.length - 1] ^= 1;
      const hex = digest.toString('hex');
      signedDigests.set(hex, (signedDigests.get(hex) ?? 0) + 1);
      return json(response, 200, { kid, value: signature.toString('base64url') });
    }
    return json(
      response,
      400,
      kvError('BadParameter', `Unsupported request ${request.method} ${request.url}`),
    );
  });
  url = `https://${VAULT_HOST}:${running.port}`;
  return { url, signedDigests, stats, acceptedAt, close: () => running.close() };
}
