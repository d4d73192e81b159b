import type { DigestHash } from './rsa-digest-sign.js';

/** The Artifact Signing data plane's paths and bodies (facts and sources: research note trusted-signing.md). */

export const API_VERSIONS = ['2022-06-15-preview', '2023-06-15-preview'];
const ALGORITHMS: Record<string, { hash: DigestHash; pss: boolean }> = {
  RS256: { hash: 'sha256', pss: false },
  RS384: { hash: 'sha384', pss: false },
  RS512: { hash: 'sha512', pss: false },
  PS256: { hash: 'sha256', pss: true },
  PS384: { hash: 'sha384', pss: true },
  PS512: { hash: 'sha512', pss: true },
};
const DIGEST_LENGTH: Record<DigestHash, number> = { sha256: 32, sha384: 48, sha512: 64 };

/** 2022-06-15-preview answers flat statuses, 2023-06-15-preview wraps them in `result`. */
export type ResponseShape = 'flat' | 'wrapped';
export type OperationState = 'InProgress' | 'Succeeded' | 'Failed';

export type Refusal = { readonly status: number; readonly body: object };

export interface Route {
  readonly account: string;
  readonly profile: string;
  /** The path up to the profile, as the client spelled it. */
  readonly profilePath: string;
  readonly apiVersion: string;
  /** `sign` (POST); `certchain`, `rootcert` or an operation id (GET). */
  readonly action: string;
}

export const errorDetail = (code: string, message: string, target: string | null = null) => ({
  errorDetail: { code, message, target },
});

/** The route of a request, or how the service refuses it (400 for the api-version, 404 for the path). */
export function route(method: string | undefined, url: URL): Route | Refusal {
  const apiVersion = url.searchParams.get('api-version') ?? '';
  const match =
    /^(\/codesigningaccounts\/([^/]+)\/certificateprofiles\/([^/:]+))(?:(\/sign|:sign)|\/sign\/([^/]+))$/.exec(
      url.pathname,
    );
  const post = method === 'POST' && match?.[4];
  // `/sign` is seen in production with 2022-06-15-preview only; `:sign` is in both specs.
  if (!API_VERSIONS.includes(apiVersion) || (post === '/sign' && apiVersion !== API_VERSIONS[0])) {
    const message = `The HTTP resource that matches the request URI '${url.href}' does not support the API version '${apiVersion}'.`;
    return { status: 400, body: { error: { code: 'UnsupportedApiVersion', message } } };
  }
  const action = post ? 'sign' : method === 'GET' && match?.[5];
  if (!match || !action) return { status: 404, body: errorDetail('NotFound', 'Resource not found.') };
  const [account, profile] = [decodeURIComponent(match[2]), decodeURIComponent(match[3])];
  return { account, profile, profilePath: match[1], apiVersion, action };
}

/** `{signatureAlgorithm, digest}` of a sign request, checked as the service checks it, or a 400. */
export function signRequest(body: Buffer): { hash: DigestHash; pss: boolean; digest: Buffer } | Refusal {
  const refuse = (message: string, target: string | null) => ({
    status: 400,
    body: errorDetail('BadRequest', message, target),
  });
  let parsed: { signatureAlgorithm?: unknown; digest?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return refuse('The request body is not valid JSON.', null);
  }
  const name = String(parsed.signatureAlgorithm);
  const algorithm = ALGORITHMS[name];
  if (!algorithm) {
    return refuse(
      `Signature algorithm '${name}' is not supported by this certificate profile (RSA key).`,
      'signatureAlgorithm',
    );
  }
  const digest = Buffer.from(String(parsed.digest ?? ''), 'base64');
  const expected = DIGEST_LENGTH[algorithm.hash];
  if (
    typeof parsed.digest !== 'string' ||
    digest.toString('base64') !== parsed.digest ||
    digest.length !== expected
  ) {
    return refuse(
      `Digest length ${digest.length} is invalid for signature algorithm ${name}: expected a base64 ${expected}-byte digest.`,
      'digest',
    );
  }
  return { ...algorithm, digest };
}

/** The body of a 202 or of a poll. `signingCertificate` is the doubly base64-encoded bag. */
export function operationStatus(
  shape: ResponseShape,
  id: string,
  state: OperationState,
  result?: { signature: Buffer; signingCertificate: string },
) {
  const flat = {
    operationId: id,
    status: state,
    signature: result?.signature.toString('base64') ?? null,
    signingCertificate: result?.signingCertificate ?? null,
  };
  if (shape === 'flat') return flat;
  const error = state === 'Failed' ? errorDetail('SigningFailed', 'The signing operation failed.') : null;
  return { id, status: state, result: flat, errorResponse: error };
}
