import type { HashAlgorithm } from '../../authenticode/algorithms.js';
import type { Inputs } from '../../config/inputs.js';
import { PERMISSIONS_HINT } from '../../credentials/github-id-token.js';
import { UserError, messageWithCause } from '../../errors.js';
import { boundedFetch, ReplyTooLargeError } from '../../io/bounded-fetch.js';
import { HttpError } from '../../io/http-error.js';
import { isLoopback } from '../../io/loopback.js';
import { retry } from '../../io/retry.js';
import { checkSigningCertificate } from '../certificate-checks.js';
import { withCertificates, type KeyStore, type KeyStoreContext } from '../key-store.js';
import { missingLeafIssuer } from '../leaf-issuer.js';
import type { DigestSignature } from '../signer.js';
import { ThrottleGate } from '../throttle-gate.js';
import { MAX_THROTTLED } from '../throttling-policy.js';
import { DigestBatcher, type ItemAnswer } from './digest-batcher.js';

/** A signature and a chain are a few KB; a server in front of a busy token may queue a call a while. */
const REPLY_LIMITS = {
  maxBytes: 1 << 20,
  firstByteMs: 120_000,
  totalMs: 150_000,
  hint: 'is signing-server-url a vaultsign serve?',
};

/** An ID token is asked for again this long before it expires. */
const ID_TOKEN_MARGIN_MS = 60_000;

function serverUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(`signing-server-url: "${value}" is not a URL (expected https://host:port)`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname)))
    throw new UserError(
      `signing-server-url: "${value}" is not https://: digests and tokens travel only over HTTPS (plain http only to a server on this machine)`,
    );
  // Behind a proxy at https://host/vaultsign, the endpoints are https://host/vaultsign/sign and so on.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

function expiryOf(jwt: string): number {
  try {
    const { exp } = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as {
      exp?: unknown;
    };
    if (typeof exp === 'number') return exp * 1000;
  } catch {
    // Not readable: asked for again on each call.
  }
  return 0;
}

/** The bearer token of each call: the static one, or the job's ID token, renewed before it expires. */
function bearerOf(inputs: Inputs, context: KeyStoreContext): () => Promise<string> {
  const token = inputs['signing-server-token'];
  if (token) return () => Promise.resolve(token);
  const audience = inputs['signing-server-audience']!;
  const getIdToken = context.getIdToken;
  if (!getIdToken || !context.env.ACTIONS_ID_TOKEN_REQUEST_URL || !context.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)
    throw new UserError(
      `signing-server-audience: GitHub OIDC is not available to this job: it lacks the id-token permission; ${PERMISSIONS_HINT}`,
    );
  let current: Promise<{ jwt: string; expires: number }> | undefined;
  return async () => {
    const held = await current?.catch(() => undefined);
    if (!held || held.expires - ID_TOKEN_MARGIN_MS < Date.now()) {
      current = getIdToken(audience).then((jwt) => {
        context.mask(jwt);
        return { jwt, expires: expiryOf(jwt) };
      });
    }
    return (await current!).jwt;
  };
}

/** What the server's refusal means for the person reading the log. */
function explain(error: unknown, origin: string): Error {
  if (error instanceof UserError) return error;
  const hint =
    error instanceof HttpError && error.status === 401
      ? "; check signing-server-token, or that signing-server-audience is the server's oidc.audience"
      : error instanceof HttpError && error.status === 403
        ? "; the server's allow-list does not admit this workflow: the claims named differ"
        : '';
  return new UserError(`signing server ${origin}: ${messageWithCause(error)}${hint}`);
}

/** One JSON call to the server: throttling waits at the shared gate; failures and timeouts are retried. */
function caller(url: URL, bearer: () => Promise<string>, gate: ThrottleGate) {
  return async (path: string, body: unknown, signal?: AbortSignal): Promise<Record<string, unknown>> => {
    const target = new URL(path, url).toString();
    const reply = await retry(
      async () => {
        for (let throttled = 1; ; throttled++) {
          await gate.wait(signal);
          const headers = { Authorization: `Bearer ${await bearer()}`, Accept: 'application/json' };
          try {
            return await boundedFetch(
              target,
              body === undefined
                ? { headers }
                : {
                    method: 'POST',
                    headers: { ...headers, 'Content-Type': 'application/json' },
                    body: JSON.stringify(body),
                  },
              REPLY_LIMITS,
              signal,
            );
          } catch (error) {
            if (!(error instanceof HttpError) || error.status !== 429 || throttled >= MAX_THROTTLED)
              throw error;
            gate.close(error.retryAfterMs ?? 1000);
          }
        }
      },
      {
        attempts: 5,
        baseDelayMs: 1000,
        maxDelayMs: 30_000,
        signal,
        isRetryable: (error) =>
          error instanceof HttpError
            ? error.retryable
            : !(error instanceof ReplyTooLargeError || error instanceof UserError),
        requestedDelayMs: (error) => (error instanceof HttpError ? error.retryAfterMs : undefined),
      },
    ).catch((error: unknown) => {
      signal?.throwIfAborted();
      throw explain(error, url.origin);
    });
    try {
      return JSON.parse(reply.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new UserError(
        `signing server ${url.origin}: the answer to ${path} is not JSON; is it a vaultsign serve?`,
      );
    }
  };
}

function base64List(value: unknown, what: string, origin: string): Buffer[] {
  if (!Array.isArray(value) || !value.length || !value.every((v) => typeof v === 'string'))
    throw new UserError(`signing server ${origin}: the answer holds no ${what}; is it a vaultsign serve?`);
  return value.map((v: string) => Buffer.from(v, 'base64'));
}

interface SignItem {
  readonly digest: string;
  readonly hash: HashAlgorithm;
  readonly files: readonly string[];
}

/** One result of a batch: a signature with its chain, or the server's reason (and wait) for none. */
function itemAnswer(
  result: Record<string, unknown>,
  origin: string,
  chainOf: (certificates: unknown) => Buffer[],
): ItemAnswer<DigestSignature> {
  if (result?.signature !== undefined) {
    const [signature] = base64List([result.signature], 'signature', origin);
    return { value: { signature, certificates: chainOf(result.certificates) } };
  }
  const reason = typeof result?.error === 'string' ? result.error : 'no signature and no reason';
  const error = new UserError(`signing server ${origin}: HTTP ${String(result?.status)}: ${reason}`);
  if (result?.status !== 429) return { error };
  const retryAfterMs = typeof result.retryAfterMs === 'number' ? result.retryAfterMs : 1000;
  return {
    error: new UserError(
      `${error.message}; it throttled this file ${MAX_THROTTLED} times in a row: lower the concurrency input or raise the server's rateLimit`,
    ),
    retryAfterMs,
  };
}

/**
 * A key held by a `vaultsign serve` elsewhere (a machine with the USB token or HSM): only digests
 * travel. The certificate is read, with this job's credentials, before any file is touched; each
 * signature brings its chain, which the core checks against the signature.
 */
export const signingServerKeyStore: KeyStore = {
  name: 'a signing server',
  inputs: ['signing-server-url', 'signing-server-token', 'signing-server-audience'],
  configure(inputs) {
    const given = inputs['signing-server-url'];
    if (!given)
      throw new UserError('signing-server-url is missing: give the https:// URL of the vaultsign serve');
    const url = serverUrl(given);
    if (inputs['signing-server-token'] && inputs['signing-server-audience'])
      throw new UserError(
        'signing-server-token and signing-server-audience both say how to sign in: give one (the audience for GitHub OIDC)',
      );
    if (!inputs['signing-server-token'] && !inputs['signing-server-audience'])
      throw new UserError(
        'the signing server needs credentials: give signing-server-audience (GitHub OIDC, no stored secret) or signing-server-token',
      );
    return {
      async open(context) {
        const gate = new ThrottleGate();
        const call = caller(url, bearerOf(inputs, context), gate);
        const chain = withCertificates(
          base64List(
            (await call('certificate', undefined, context.signal)).certificates,
            'certificates',
            url.origin,
          ),
          context.additionalCertificates,
        );
        const certificate = checkSigningCertificate(
          chain[0],
          `the certificate of signing server ${url.origin}`,
        );
        const missing = missingLeafIssuer(chain);
        let latest: { text: string; chain: Buffer[] } = { text: '', chain };
        /** The same chain as the last answer is handed on as the same array: the core parses it once. */
        const chainOf = (certificates: unknown) => {
          const text = JSON.stringify(certificates);
          if (text !== latest.text)
            latest = {
              text,
              chain: withCertificates(
                base64List(certificates, 'certificates', url.origin),
                context.additionalCertificates,
              ),
            };
          return latest.chain;
        };
        const batcher = new DigestBatcher<SignItem, DigestSignature>(
          async (items, signal) => {
            const { results } = await call('sign', { batch: items }, signal);
            if (!Array.isArray(results) || results.length !== items.length)
              throw new UserError(
                `signing server ${url.origin}: the answer holds no result for each digest; is it a vaultsign serve?`,
              );
            return results.map((result: Record<string, unknown>) => itemAnswer(result, url.origin, chainOf));
          },
          (retryAfterMs) => gate.close(retryAfterMs),
          { maxBatch: 32, maxInFlight: 8, lingerMs: 5, maxThrottled: MAX_THROTTLED },
        );
        return {
          signer: {
            signDigest: (hash: HashAlgorithm, digest: Buffer, signal?: AbortSignal, file?: string) =>
              batcher.submit({ digest: digest.toString('base64'), hash, files: file ? [file] : [] }, signal),
          },
          certificate,
          warnings: missing ? [missing] : [],
          description: `signing server ${url.origin}`,
        };
      },
    };
  },
};
