import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hashLength, type HashAlgorithm } from '../authenticode/algorithms.js';
import { UserError, messageOf } from '../errors.js';
import type { DigestSignature } from '../signers/signer.js';
import { AuditLog } from './audit-log.js';
import { Authenticator, callerKey, Refusal, type Caller } from './auth.js';
import type { Access, ServeConfig } from './config.js';
import { RateLimiter } from './rate-limit.js';
import type { ServedKey } from './signing-key.js';

/** A sign request is a digest and a few file names, or a batch of up to MAX_BATCH of them. */
const MAX_BODY = 1 << 20;
const MAX_BATCH = 64;
const HASHES: readonly HashAlgorithm[] = ['sha256', 'sha384', 'sha512'];

/** An answer other than success, with what the audit log records. */
class Answer extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface SignRequest {
  readonly digest: Buffer;
  readonly hash: HashAlgorithm;
  readonly files: readonly string[];
}

/** One digest of a request, read as far as it goes: the audit log records what could be read, even of a refusal. */
interface SignItem {
  readonly request?: SignRequest;
  readonly partial: Record<string, unknown>;
  readonly problem?: string;
}

/** What became of one digest. */
interface Outcome {
  readonly status: number;
  readonly signature?: DigestSignature;
  readonly error?: string;
  readonly retryAfterMs?: number;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  if (Number(request.headers['content-length'] ?? 0) > MAX_BODY)
    throw new Answer(413, `the body exceeds ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY) throw new Answer(413, `the body exceeds ${MAX_BODY} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof Answer) throw error;
    throw new Answer(CLOSED, 'the caller closed the connection before its request was whole');
  }
  return Buffer.concat(chunks);
}

/** The digests of a body: `{digest, hash, files}` alone, or a list of them under `batch`. */
function parseSignBody(body: Buffer): { items: SignItem[]; batch: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { items: [{ partial: {}, problem: 'the body is not JSON' }], batch: false };
  }
  const batch = typeof value === 'object' && value !== null && 'batch' in value ? value.batch : undefined;
  if (batch === undefined) return { items: [parseSignItem(value)], batch: false };
  if (!Array.isArray(batch) || batch.length === 0 || batch.length > MAX_BATCH)
    return {
      items: [{ partial: {}, problem: `batch: expected a list of 1 to ${MAX_BATCH} sign requests` }],
      batch: false,
    };
  return { items: batch.map(parseSignItem), batch: true };
}

function parseSignItem(value: unknown): SignItem {
  if (typeof value !== 'object' || value === null)
    return { partial: {}, problem: 'the sign request is not a JSON object' };
  const { digest, hash, files } = value as Record<string, unknown>;
  const names = Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : [];
  const partial: Record<string, unknown> = {
    hash: typeof hash === 'string' ? hash : undefined,
    files: names,
  };
  const bytes = typeof digest === 'string' ? Buffer.from(digest, 'base64') : undefined;
  if (bytes && bytes.toString('base64') === digest) partial.digest = bytes.toString('hex');
  if (!HASHES.includes(hash as HashAlgorithm))
    return { partial, problem: `hash: expected one of ${HASHES.join(', ')}` };
  if (!bytes || partial.digest === undefined || bytes.length !== hashLength(hash as HashAlgorithm))
    return {
      partial,
      problem: `digest: expected the ${hash} digest (${hashLength(hash as HashAlgorithm)} bytes) in base64`,
    };
  if (files !== undefined && (!Array.isArray(files) || names.length !== files.length))
    return { partial, problem: 'files: expected a list of file names' };
  return { request: { digest: bytes, hash: hash as HashAlgorithm, files: names }, partial };
}

/** The status of a request whose caller hung up (nginx's "client closed request"): logged, never sent. */
const CLOSED = 499;
const RESULTS: Record<number, string> = { 200: 'signed', 502: 'failed', [CLOSED]: 'cancelled' };
const resultOf = (status: number) => RESULTS[status] ?? 'refused';

function auditedCaller(caller: Caller | undefined): unknown {
  if (!caller) return null;
  return caller.kind === 'token' ? { token: caller.name } : { githubOidc: caller.claims };
}

/**
 * The HTTPS signing server: answers health checks, hands out the certificate chain and signs digests
 * for the callers its access rules admit, one audit line per request (health checks aside). The key
 * is shared by every request: a key store that must sign one at a time (a PKCS#11 token) queues them.
 */
export class SigningServer {
  private readonly server;
  private auth: Authenticator;
  private limiter: RateLimiter;
  private inFlight = 0;
  private draining?: () => void;
  private stopping = false;

  constructor(
    config: ServeConfig,
    tls: { cert: Buffer; key: Buffer } | undefined,
    private readonly key: ServedKey,
    private readonly audit: AuditLog,
    private readonly report: (message: string) => void,
  ) {
    this.auth = new Authenticator(config.access);
    this.limiter = new RateLimiter(config.access.perMinute);
    const handler = (request: IncomingMessage, response: ServerResponse) =>
      void this.handle(request, response);
    this.server = tls
      ? createHttpsServer({ ...tls, minVersion: 'TLSv1.2' }, handler)
      : createHttpServer(handler);
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 60_000;
  }

  /** Listens; resolves with the URL it answers on (the port chosen when 0 was asked). */
  async listen(host: string, port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const failed = (error: NodeJS.ErrnoException) =>
        reject(
          new UserError(
            `cannot listen on ${host}:${port}: ${error.code ?? messageOf(error)}${error.code === 'EADDRINUSE' ? ' (another process holds the port)' : ''}`,
          ),
        );
      this.server.once('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${'setSecureContext' in this.server ? 'https' : 'http'}://${shown}:${address.port}`;
  }

  /** A reloaded config: new access rules (issuer keys kept), and the TLS files read again. */
  reload(access: Access, tls?: { cert: Buffer; key: Buffer }): void {
    this.auth = new Authenticator(access, this.auth);
    if (access.perMinute !== this.limiter.perMinute) this.limiter = new RateLimiter(access.perMinute);
    if (tls && 'setSecureContext' in this.server) this.server.setSecureContext(tls);
  }

  /** Stops accepting, answers the requests in flight, then closes every connection. */
  async drain(): Promise<void> {
    this.stopping = true;
    const done = new Promise<void>((resolve) => {
      this.draining = resolve;
      if (this.inFlight === 0) resolve();
    });
    this.server.close();
    this.server.closeIdleConnections();
    await done;
    this.server.closeAllConnections();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight++;
    try {
      await this.route(request, response);
    } catch (error) {
      this.report(`error: unexpected error answering ${request.method} ${request.url}: ${messageOf(error)}`);
      if (!response.headersSent) this.send(response, 500, { error: 'internal error' });
    } finally {
      if (--this.inFlight === 0) this.draining?.();
    }
  }

  private send(
    response: ServerResponse,
    status: number,
    value: unknown,
    headers: Record<string, string> = {},
  ) {
    const body = JSON.stringify(value);
    response.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      ...(this.stopping ? { Connection: 'close' } : {}),
      ...headers,
    });
    // The callback of end() never comes when the caller has hung up: 'close' (or having closed) says so.
    return new Promise<void>((resolve) => {
      if (response.closed) return resolve();
      response.once('close', resolve);
      response.end(body, resolve);
    });
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      return this.stopping
        ? this.send(response, 503, { status: 'stopping' })
        : this.send(response, 200, { status: 'ok' });
    }
    const record: Record<string, unknown> = {
      request: `${request.method} ${path}`,
      remote: request.socket.remoteAddress,
      caller: null,
    };
    // Every digest of the request is a line of its own, refused ones included.
    let items: SignItem[] = [{ partial: {} }];
    const lines = (outcomes: readonly Outcome[]) =>
      items.map((item, i) => {
        const { status, error } = outcomes[i];
        return {
          ...record,
          ...item.partial,
          result: resultOf(status),
          status,
          ...(error && { reason: error }),
        };
      });
    try {
      const routes: Record<string, string> = { '/sign': 'POST', '/certificate': 'GET' };
      if (!routes[path])
        throw new Answer(404, `no such endpoint: ${path} (use POST /sign, GET /certificate, GET /healthz)`);
      if (request.method !== routes[path])
        throw new Answer(405, `${path} takes ${routes[path]}`, { Allow: routes[path] });
      const parsed = path === '/sign' ? parseSignBody(await readBody(request)) : undefined;
      if (parsed) items = parsed.items;
      const caller = await this.auth.authenticate(request.headers.authorization).catch((error: unknown) => {
        if (error instanceof Refusal) {
          record.caller = auditedCaller(error.caller);
          throw new Answer(error.status, error.message, error.status === 503 ? { 'Retry-After': '5' } : {});
        }
        throw error;
      });
      record.caller = auditedCaller(caller);
      if (!parsed) {
        await this.audit.write([{ ...record, result: 'answered', status: 200 }]);
        return await this.send(response, 200, {
          certificates: this.key.chain().map((c) => c.toString('base64')),
        });
      }
      // A caller that hung up (a cancelled job) is not worth the key's time: what it still waits for is dropped.
      const hungUp = new AbortController();
      response.once('close', () => hungUp.abort(new Error('the caller closed the connection')));
      const outcomes = await Promise.all(items.map((item) => this.signItem(item, caller, hungUp.signal)));
      // No signature leaves without its audit line on disk.
      await this.audit.write(lines(outcomes)).catch((error: unknown) => {
        const signed = outcomes.some((o) => o.signature);
        this.report(
          `error: audit log ${this.audit.path}: ${messageOf(error)}${signed ? '; signature withheld' : ''}`,
        );
        if (signed) throw new Answer(500, 'the audit log cannot be written; the signature is withheld');
      });
      if (parsed.batch) return await this.send(response, 200, { results: outcomes.map(answerOf) });
      const [outcome] = outcomes;
      if (outcome.signature) return await this.send(response, 200, answerOf(outcome));
      const wait = outcome.retryAfterMs && { 'Retry-After': String(Math.ceil(outcome.retryAfterMs / 1000)) };
      return await this.send(response, outcome.status, { error: outcome.error }, wait || {});
    } catch (error) {
      if (!(error instanceof Answer)) throw error;
      if (error.status !== 500)
        await this.audit
          .write(lines(items.map(() => ({ status: error.status, error: error.message }))))
          .catch((failure: unknown) =>
            this.report(`error: audit log ${this.audit.path}: ${messageOf(failure)}`),
          );
      return this.send(response, error.status, { error: error.message }, error.headers);
    }
  }

  /** Signs one digest of a request, within the caller's rate. */
  private async signItem(item: SignItem, caller: Caller, hungUp: AbortSignal): Promise<Outcome> {
    if (!item.request) return { status: 400, error: item.problem };
    const waitMs = this.limiter.take(callerKey(caller));
    if (waitMs > 0)
      return {
        status: 429,
        error: `over ${this.limiter.perMinute} signatures a minute for this caller`,
        retryAfterMs: waitMs,
      };
    try {
      return { status: 200, signature: await this.key.sign(item.request.hash, item.request.digest, hungUp) };
    } catch (error) {
      if (hungUp.aborted)
        return { status: CLOSED, error: 'not signed: the caller closed the connection first' };
      return { status: 502, error: `${this.key.ready.description} failed to sign: ${messageOf(error)}` };
    }
  }
}

/** A signature with its chain, or why there is none (and, when throttled, when to come back). */
function answerOf({ signature, status, error, retryAfterMs }: Outcome): Record<string, unknown> {
  return signature
    ? {
        signature: signature.signature.toString('base64'),
        certificates: signature.certificates.map((c) => c.toString('base64')),
      }
    : { status, error, ...(retryAfterMs && { retryAfterMs }) };
}
