import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { endless, HOSTILE_TEXT, stall, trickle } from './hostile-replies.js';

const run = promisify(execFile);

/**
 * ok: a real openssl ts reply; the others are the faults a client must refuse or cut short:
 * forbidden (403 with control bytes in its body), stall (accepts, never answers), trickle (a real
 * reply, one byte every 100 ms), endless (200 and a body without end), endless-error (the same
 * with 500).
 */
export type TsaMode =
  | 'ok'
  | 'bad-imprint'
  | 'rejection'
  | 'garbage'
  | 'no-nonce'
  | 'forbidden'
  | 'stall'
  | 'trickle'
  | 'endless'
  | 'endless-error';

export interface TsaServerOptions {
  readonly configFile: string;
  readonly latencyMs?: number;
  /** Answer HTTP 500 to this many requests first. */
  readonly failFirst?: number;
  /** Answer 429 with this Retry-After (seconds) to the first request. */
  readonly throttleFirstSeconds?: number;
  readonly mode?: TsaMode;
}

export interface TsaServer {
  readonly url: string;
  readonly requests: number;
  close(): Promise<void>;
}

/** The whole body of a request. */
export async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function rejection(): Buffer {
  const response = new pkijs.TimeStampResp({
    status: new pkijs.PKIStatusInfo({
      status: 2,
      statusStrings: [new asn1js.Utf8String({ value: 'policy not accepted' })],
    }),
  });
  return Buffer.from(response.toSchema().toBER());
}

/**
 * An RFC 3161 service on loopback whose replies come from the real `openssl ts -reply`.
 * Each request goes through a temporary query file, as openssl reads and writes files.
 */
export async function startTsaServer(options: TsaServerOptions): Promise<TsaServer> {
  const work = await mkdtemp(join(tmpdir(), 'vaultsign-tsa-'));
  let requests = 0;
  let sequence = 0;
  const configText = await readFile(options.configFile, 'utf8');
  const reply = async (query: Buffer): Promise<Buffer> => {
    const id = sequence++;
    const queryFile = join(work, `${id}.tsq`);
    const replyFile = join(work, `${id}.tsr`);
    if (options.mode === 'bad-imprint') {
      // A genuine token, but for a query about other data.
      await writeFile(join(work, `${id}.other`), `other data ${id}`);
      await run('openssl', [
        'ts',
        '-query',
        '-data',
        join(work, `${id}.other`),
        '-sha256',
        '-cert',
        '-out',
        queryFile,
      ]);
    } else if (options.mode === 'no-nonce') {
      const parsed = pkijs.TimeStampReq.fromBER(new Uint8Array(query));
      parsed.nonce = undefined;
      await writeFile(queryFile, Buffer.from(parsed.toSchema().toBER()));
    } else {
      await writeFile(queryFile, query);
    }
    // openssl keeps its serial number in one file: parallel replies each get their own, or they race.
    const config = join(work, `${id}.cnf`);
    const serial = join(work, `${id}.serial`);
    await writeFile(serial, `${(id + 1).toString(16).padStart(4, '0')}\n`);
    await writeFile(config, configText.replace(/^serial\s*=.*$/m, `serial = ${serial}`));
    await run('openssl', ['ts', '-reply', '-config', config, '-queryfile', queryFile, '-out', replyFile]);
    return readFile(replyFile);
  };

  const server = createServer(async (request, response) => {
    requests++;
    const query = await body(request);
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    try {
      if (requests <= (options.failFirst ?? 0)) {
        response.writeHead(500).end('injected failure');
        return;
      }
      if (requests === 1 && options.throttleFirstSeconds !== undefined) {
        response.writeHead(429, { 'Retry-After': String(options.throttleFirstSeconds) }).end('slow down');
        return;
      }
      switch (options.mode) {
        case 'forbidden':
          response.writeHead(403, { 'Content-Type': 'text/plain' }).end(`denied ${HOSTILE_TEXT} here`);
          return;
        case 'stall':
          return await stall(response);
        case 'trickle':
          return await trickle(response, 200, await reply(query));
        case 'endless':
          await endless(response, 200, { 'Content-Type': 'application/timestamp-reply' });
          return;
        case 'endless-error':
          await endless(response, 500, { 'Content-Type': 'text/plain' });
          return;
      }
      const answer =
        options.mode === 'rejection'
          ? rejection()
          : options.mode === 'garbage'
            ? Buffer.from('not DER at all')
            : await reply(query);
      response.writeHead(200, { 'Content-Type': 'application/timestamp-reply' }).end(answer);
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    get requests() {
      return requests;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(work, { recursive: true, force: true });
    },
  };
}
