import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { UserError, messageWithCause } from '../errors.js';
import { boundedFetch, ReplyTooLargeError, type ReplyLimits } from '../io/bounded-fetch.js';
import { HttpError, printable } from '../io/http-error.js';
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
  /** Per request; the defaults suit public TSAs (a reply is a few KB and comes within a second). */
  readonly limits?: Partial<ReplyLimits>;
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

/**
 * A token is a few KB, 20 KB with a long chain: 1 MiB is far above any real reply and still a bound.
 * A TSA that has not answered in 10 s is better retried; a whole reply takes one round trip.
 */
export const TSA_REPLY_LIMITS: ReplyLimits = {
  maxBytes: 1 << 20,
  firstByteMs: 10_000,
  totalMs: 30_000,
  hint: 'is this an RFC 3161 timestamp service?',
};

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
    const text = printable(statusStrings?.map((s) => s.valueBlock.value).join('; ') ?? '', 200);
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
  const body = await boundedFetch(
    url,
    {
      method: 'POST',
      headers: { 'Content-Type': 'application/timestamp-query', Accept: 'application/timestamp-reply' },
      body: new Uint8Array(buildRequest(query.imprint, query.hash, nonce)),
    },
    { ...TSA_REPLY_LIMITS, ...options.limits },
    options.signal,
  );
  const { der, time } = await tokenFromReply(body, query);
  return { token: der, time, url };
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
        // A 4xx or an oversized reply would come again: the next URL is the better try.
        isRetryable: (error) =>
          error instanceof HttpError ? error.retryable : !(error instanceof ReplyTooLargeError),
        requestedDelayMs: (error) => (error instanceof HttpError ? error.retryAfterMs : undefined),
        onRetry: (error, attempt) => options.onRetry?.(url, attempt, error),
      });
    } catch (error) {
      options.signal?.throwIfAborted();
      const why = messageWithCause(error);
      failures.push(why.includes(url) ? why : `${url}: ${why}`);
    }
  }
  throw new UserError(`no timestamp service answered (${failures.join('; ')})`);
}
