import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { UserError, messageOf } from '../errors.js';
import { HttpError } from '../io/http-error.js';
import { retry } from '../io/retry.js';
import type { HashAlgorithm } from './algorithms.js';
import { fromDer, toDer } from './der.js';
import { algorithmIdentifier } from './indirect-data.js';
import { timestampSignatureHolds, timestampSigner, timestampTokenIn } from './timestamp-token.js';

export interface TimestampRequestOptions {
  /** Tried in order; the next one only when the previous failed every attempt. */
  readonly urls: readonly string[];
  readonly hash: HashAlgorithm;
  readonly attemptsPerUrl?: number;
  readonly timeoutMs?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly signal?: AbortSignal;
  readonly onRetry?: (url: string, attempt: number, error: unknown) => void;
}

export interface TimestampResult {
  /** DER ContentInfo of the TimeStampToken, ready for the unsigned attribute. */
  readonly token: Buffer;
  readonly time: Date;
  readonly url: string;
}

const PKI_STATUS = [
  'granted',
  'grantedWithMods',
  'rejection',
  'waiting',
  'revocationWarning',
  'revocationNotification',
];

function buildRequest(imprint: Buffer, hash: HashAlgorithm, nonce: Buffer): Buffer {
  const request = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ schema: algorithmIdentifier(hash) }),
      hashedMessage: new asn1js.OctetString({ valueHex: imprint }),
    }),
    nonce: new asn1js.Integer({ valueHex: nonce }),
    certReq: true,
  });
  return toDer(request.toSchema());
}

/** What one request asked for: the reply must match all of it. */
interface Query {
  /** The bytes being timestamped (the SignerInfo signature value). */
  readonly stamped: Buffer;
  readonly hash: HashAlgorithm;
  readonly imprint: Buffer;
  readonly nonce: Buffer;
}

/** Checks the TSA's answer against what we asked and returns the token, as the TSA's exact bytes. */
async function tokenFromReply(reply: Buffer, query: Query): Promise<{ der: Buffer; time: Date }> {
  let decoded: asn1js.AsnType;
  let response: pkijs.TimeStampResp;
  try {
    decoded = fromDer(reply, 'the reply');
    response = new pkijs.TimeStampResp({ schema: decoded });
  } catch {
    throw new Error('the reply is not an RFC 3161 TimeStampResp');
  }
  const { status, statusStrings, failInfo } = response.status;
  if (status !== 0 && status !== 1) {
    const text = statusStrings?.map((s) => s.valueBlock.value).join('; ');
    const fail = failInfo
      ? `, failInfo ${Buffer.from(failInfo.valueBlock.valueHexView).toString('hex')}`
      : '';
    throw new Error(
      `the TSA refused: status ${PKI_STATUS[status] ?? status}${text ? ` (${text})` : ''}${fail}`,
    );
  }
  if (!response.timeStampToken) throw new Error('the reply grants a timestamp but carries no token');
  const token = timestampTokenIn(response.timeStampToken);
  if (token.hash !== query.hash || !token.imprint.equals(query.imprint)) {
    throw new Error('the token is for other data (message imprint mismatch)');
  }
  const echoed = token.info.nonce && Buffer.from(token.info.nonce.valueBlock.valueHexView);
  if (!echoed || !echoed.equals(query.nonce)) throw new Error('the token does not echo our nonce');
  if (!(await timestampSignatureHolds(token, query.stamped)))
    throw new Error('the token signature does not verify');
  timestampSigner(token);
  // TimeStampResp ::= SEQUENCE { status, timeStampToken }: the token as the TSA encoded it.
  const [, tokenBlock] = (decoded as asn1js.Sequence).valueBlock.value;
  return { der: Buffer.from(tokenBlock.valueBeforeDecodeView), time: token.time };
}

async function requestOnce(
  url: string,
  stamped: Buffer,
  options: TimestampRequestOptions,
): Promise<TimestampResult> {
  // A positive INTEGER whose DER form is exactly these bytes: top bit clear, first byte non-zero.
  const nonce = randomBytes(8);
  nonce[0] = (nonce[0] & 0x7f) | 0x01;
  const query: Query = {
    stamped,
    hash: options.hash,
    imprint: createHash(options.hash).update(stamped).digest(),
    nonce,
  };
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/timestamp-query', Accept: 'application/timestamp-reply' },
    body: new Uint8Array(buildRequest(query.imprint, query.hash, nonce)),
    signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
  });
  if (!response.ok) throw await HttpError.from(response, url);
  const { der, time } = await tokenFromReply(Buffer.from(await response.arrayBuffer()), query);
  return { token: der, time, url };
}

/** Why a request failed, in words: fetch hides the network cause one level down. */
function reason(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${messageOf(error)}${cause}`;
}

/** Gets an RFC 3161 timestamp over `signatureValue`, trying each URL with retries before the next. */
export async function requestTimestamp(
  signatureValue: Buffer,
  options: TimestampRequestOptions,
): Promise<TimestampResult> {
  const failures: string[] = [];
  for (const url of options.urls) {
    try {
      return await retry(() => requestOnce(url, signatureValue, options), {
        attempts: options.attemptsPerUrl ?? 3,
        baseDelayMs: options.baseDelayMs ?? 1000,
        maxDelayMs: options.maxDelayMs ?? 30_000,
        signal: options.signal,
        isRetryable: (error) => !(error instanceof HttpError) || error.retryable,
        requestedDelayMs: (error) => (error instanceof HttpError ? error.retryAfterMs : undefined),
        onRetry: (error, attempt) => options.onRetry?.(url, attempt, error),
      });
    } catch (error) {
      options.signal?.throwIfAborted();
      failures.push(`${url}: ${reason(error)}`);
    }
  }
  throw new UserError(`no timestamp service answered (${failures.join('; ')})`);
}
