import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hashLength, type HashAlgorithm } from '../authenticode/algorithms.js';
import { UserError, messageOf } from '../errors.js';
import { AuditLog } from './audit-log.js';
import { Authenticator, callerKey, Refusal, type Caller } from './auth.js';
import type { Access, ServeConfig } from './config.js';
import { RateLimiter } from './rate-limit.js';
import type { ServedKey } from './signing-key.js';

/** A sign request is a digest and a few file names. */
const MAX_BODY = 64 << 10;
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

async function readBody(request: IncomingMessage): Promise<Buffer> {
  if (Number(request.headers['content-length'] ?? 0) > MAX_BODY)
    throw new Answer(413, `the body exceeds ${MAX_BODY} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Answer(413, `the body exceeds ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses a sign request as far as it goes: the audit log records what could be read, even of a refusal. */
function parseSignRequest(body: Buffer): {
  request?: SignRequest;
  partial: Record<string, unknown>;
  problem?: string;
} {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { partial: {}, problem: 'the body is not JSON' };
  }
  if (typeof value !== 'object' || value === null)
    return { partial: {}, problem: 'the body is not a JSON object' };
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
    return new Promise<void>((resolve) => response.end(body, resolve));
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
    try {
      const routes: Record<string, string> = { '/sign': 'POST', '/certificate': 'GET' };
      if (!routes[path])
        throw new Answer(404, `no such endpoint: ${path} (use POST /sign, GET /certificate, GET /healthz)`);
      if (request.method !== routes[path])
        throw new Answer(405, `${path} takes ${routes[path]}`, { Allow: routes[path] });
      const body = path === '/sign' ? await readBody(request) : Buffer.alloc(0);
      const parsed = path === '/sign' ? parseSignRequest(body) : undefined;
      Object.assign(record, parsed?.partial);
      const caller = await this.auth.authenticate(request.headers.authorization).catch((error: unknown) => {
        if (error instanceof Refusal) {
          record.caller = auditedCaller(error.caller);
          throw new Answer(error.status, error.message, error.status === 503 ? { 'Retry-After': '5' } : {});
        }
        throw error;
      });
      record.caller = auditedCaller(caller);
      if (path === '/certificate') {
        await this.audit.write({ ...record, result: 'answered', status: 200 });
        return await this.send(response, 200, {
          certificates: this.key.chain().map((c) => c.toString('base64')),
        });
      }
      const waitMs = this.limiter.take(callerKey(caller));
      if (waitMs > 0)
        throw new Answer(429, `over ${this.limiter.perMinute} signatures a minute for this caller`, {
          'Retry-After': String(Math.ceil(waitMs / 1000)),
        });
      if (!parsed?.request) throw new Answer(400, parsed?.problem ?? 'bad request');
      const { hash, digest } = parsed.request;
      let answer;
      try {
        answer = await this.key.sign(hash, digest);
      } catch (error) {
        throw new Answer(502, `${this.key.ready.description} failed to sign: ${messageOf(error)}`);
      }
      // No signature leaves without its audit line on disk.
      await this.audit.write({ ...record, result: 'signed', status: 200 }).catch((error: unknown) => {
        this.report(`error: audit log ${this.audit.path}: ${messageOf(error)}; signature withheld`);
        throw new Answer(500, 'the audit log cannot be written; the signature is withheld');
      });
      return await this.send(response, 200, {
        signature: answer.signature.toString('base64'),
        certificates: answer.certificates.map((c) => c.toString('base64')),
      });
    } catch (error) {
      if (!(error instanceof Answer)) throw error;
      if (error.status !== 500) {
        const result = error.status === 502 ? 'failed' : 'refused';
        await this.audit
          .write({ ...record, result, status: error.status, reason: error.message })
          .catch((failure: unknown) =>
            this.report(`error: audit log ${this.audit.path}: ${messageOf(failure)}`),
          );
      }
      return this.send(response, error.status, { error: error.message }, error.headers);
    }
  }
}
