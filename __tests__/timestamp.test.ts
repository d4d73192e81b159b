import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { requestTimestamp, type TimestampRequestOptions } from '../src/authenticode/timestamp-client.js';
import { checkTimestampToken, parseTimestampToken } from '../src/authenticode/timestamp-token.js';
import { UserError } from '../src/errors.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { startPkijsTsa } from '../test/pkijs-tsa.js';
import { startTsaServer, type TsaMode, type TsaServerOptions } from '../test/tsa-server.js';

let pki: TestPki;
let root: X509Certificate;
let otherRoot: X509Certificate;
beforeAll(async () => {
  pki = await ensureTestPki();
  root = new X509Certificate(await readFile(pki.rootCa));
  otherRoot = new X509Certificate(await readFile(pki.otherRoot));
});

const fast: Partial<TimestampRequestOptions> = { baseDelayMs: 10, maxDelayMs: 50 };

/** Runs `work` against a fresh responder and closes it afterwards. */
async function withTsa<T>(
  options: Omit<TsaServerOptions, 'configFile'>,
  work: (url: string, requests: () => number) => Promise<T>,
) {
  const tsa = await startTsaServer({ configFile: pki.tsaConfig, ...options });
  try {
    return await work(tsa.url, () => tsa.requests);
  } finally {
    await tsa.close();
  }
}

describe('RFC 3161 client against openssl ts', () => {
  it.each(['sha256', 'sha384'] as const)(
    'gets a %s token that checks out, and only against the right root',
    async (hash) => {
      const signature = randomBytes(256);
      await withTsa({}, async (url) => {
        const result = await requestTimestamp(signature, { urls: [url], hash, ...fast });
        expect(Math.abs(result.time.getTime() - Date.now())).toBeLessThan(60_000);
        expect(result.url).toBe(url);
        expect(parseTimestampToken(result.token).hash).toBe(hash);
        const checked = await checkTimestampToken(result.token, signature, { anchors: [root] });
        expect(checked.signer).toBe('vaultsign Test TSA');
        await expect(checkTimestampToken(result.token, signature, { anchors: [otherRoot] })).rejects.toThrow(
          /does not chain to a trusted root/,
        );
        await expect(checkTimestampToken(result.token, randomBytes(256))).rejects.toThrow(
          /message imprint mismatch/,
        );
      });
    },
  );

  it('retries a failing service with backoff and succeeds', async () => {
    await withTsa({ failFirst: 2 }, async (url, requests) => {
      const retries: number[] = [];
      await requestTimestamp(randomBytes(64), {
        urls: [url],
        hash: 'sha256',
        ...fast,
        onRetry: (_u, attempt) => retries.push(attempt),
      });
      expect(requests()).toBe(3);
      expect(retries).toEqual([1, 2]);
    });
  });

  it('honours Retry-After on HTTP 429', async () => {
    await withTsa({ throttleFirstSeconds: 1 }, async (url, requests) => {
      const started = Date.now();
      await requestTimestamp(randomBytes(64), {
        urls: [url],
        hash: 'sha256',
        baseDelayMs: 1,
        maxDelayMs: 5000,
      });
      expect(requests()).toBe(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    });
  });

  it.each([
    ['bad-imprint', /message imprint mismatch/],
    ['rejection', /the TSA refused: status rejection \(policy not accepted\)/],
    ['garbage', /not an RFC 3161 TimeStampResp/],
    ['no-nonce', /does not echo our nonce/],
  ] as [TsaMode, RegExp][])('refuses a %s reply', async (mode, problem) => {
    await withTsa({ mode }, async (url, requests) => {
      const attempt = requestTimestamp(randomBytes(64), { urls: [url], hash: 'sha256', ...fast });
      await expect(attempt).rejects.toThrow(problem);
      await expect(attempt).rejects.toBeInstanceOf(UserError);
      expect(requests()).toBe(3);
    });
  });

  it('moves on at once after a 4xx answer, and lists every service when all fail', async () => {
    let notFound = 0;
    const server = createServer((_req, res) => {
      notFound++;
      res.writeHead(404).end('no TSA here');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const missing = `http://127.0.0.1:${(server.address() as AddressInfo).port}/missing`;
    try {
      await withTsa({ mode: 'garbage' }, async (garbage) => {
        const attempt = requestTimestamp(randomBytes(64), {
          urls: [missing, 'http://127.0.0.1:9/dead', garbage],
          hash: 'sha256',
          ...fast,
        });
        await expect(attempt).rejects.toThrow(
          new RegExp(
            `no timestamp service answered \\(${missing}: .*HTTP 404.*; http://127.0.0.1:9/dead: .*; ${garbage}: the reply is not`,
          ),
        );
      });
      expect(notFound).toBe(1);
    } finally {
      server.close();
    }
  });

  it('falls back to the next service when the first fails every attempt', async () => {
    await withTsa({ failFirst: 100 }, async (broken, brokenRequests) => {
      await withTsa({}, async (good) => {
        const result = await requestTimestamp(randomBytes(64), {
          urls: [broken, good],
          hash: 'sha256',
          ...fast,
        });
        expect(result.url).toBe(good);
        expect(brokenRequests()).toBe(3);
      });
    });
  });
});

describe('the TSA certificate', () => {
  // openssl ts will not sign with a certificate that lacks the time-stamping usage; pkijs will.
  async function withPkijsTsa<T>(cert: { cert: string; key: string }, work: (url: string) => Promise<T>) {
    const tsa = await startPkijsTsa({ ...cert, intermediate: pki.intermediateCa });
    try {
      return await work(tsa.url);
    } finally {
      await tsa.close();
    }
  }

  it('is accepted when it names time stamping (the responder itself is sound)', async () => {
    const signature = randomBytes(256);
    await withPkijsTsa({ cert: pki.tsaCert, key: pki.tsaKey }, async (url) => {
      const result = await requestTimestamp(signature, { urls: [url], hash: 'sha256', ...fast });
      const checked = await checkTimestampToken(result.token, signature, { anchors: [root] });
      expect(checked.signer).toBe('vaultsign Test TSA');
    });
  });

  it('is refused at signing time when it does not name time stamping, though the token is otherwise sound', async () => {
    await withPkijsTsa(pki.tsaWithoutEku, async (url) => {
      const attempt = requestTimestamp(randomBytes(64), { urls: [url], hash: 'sha256', ...fast });
      await expect(attempt).rejects.toThrow(
        /the timestamp signer "vaultsign Test TSA without EKU" is not a time-stamping certificate/,
      );
      await expect(attempt).rejects.toBeInstanceOf(UserError);
    });
  });
});
