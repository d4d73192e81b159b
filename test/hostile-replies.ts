import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * The ways a server can hold a client. Every one ends by itself, or as soon as the client hangs up
 * (pipeline stops its source when the response closes).
 */

/** Accepts and never answers, for at most `maxMs`; then hangs up. */
export async function stall(response: ServerResponse, maxMs = 60_000): Promise<void> {
  const hungUp = new AbortController();
  response.once('close', () => hungUp.abort());
  await sleep(maxMs, undefined, { signal: hungUp.signal }).catch(() => undefined);
  response.destroy();
}

/** Headers, then `body` one byte every `intervalMs`: a reply that does not complete in time. */
export async function trickle(
  response: ServerResponse,
  status: number,
  body: Buffer,
  intervalMs = 100,
): Promise<void> {
  response.writeHead(status, { 'Content-Type': 'application/octet-stream' });
  async function* bytes() {
    for (const byte of body) {
      yield Buffer.of(byte);
      await sleep(intervalMs);
    }
  }
  await pipeline(Readable.from(bytes()), response).catch(() => undefined);
}

/** Control bytes and a workflow command: what must never reach a log line raw. */
export const HOSTILE_TEXT = '\x1b[31m\r\n::warning::from the server\x07\x00\u202e';

/**
 * Headers, then a body with no end, as fast as the client reads it, until the client hangs up or
 * `maxBytes` have gone (far above any cap under test). Returns the bytes handed to the socket.
 */
export async function endless(
  response: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
  maxBytes = 16 * 2 ** 30,
): Promise<number> {
  response.writeHead(status, { 'Content-Type': 'application/octet-stream', ...headers });
  const chunk = Buffer.alloc(64 * 1024, HOSTILE_TEXT);
  let sent = 0;
  function* chunks() {
    while (sent < maxBytes) {
      sent += chunk.length;
      yield chunk;
    }
  }
  await pipeline(Readable.from(chunks()), response).catch(() => undefined);
  return sent;
}
