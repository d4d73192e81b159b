import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { requestTimestamp, type TimestampRequestOptions } from '../src/authenticode/timestamp-client.js';
import { boundedFetch } from '../src/io/bounded-fetch.js';
import { osslVerify } from '../test/osslsigncode.js';
import { runCliMeasured } from '../test/measure-cli.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { startTsaServer, type TsaMode, type TsaServer, type TsaServerOptions } from '../test/tsa-server.js';

let pki: TestPki;
let fixtures: PeFixture[];
let good: TsaServer;
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  good = await startTsaServer({ configFile: pki.tsaConfig });
});
afterAll(() => good.close());

async function withTsa<T>(
  options: Omit<TsaServerOptions, 'configFile'>,
  work: (tsa: TsaServer) => Promise<T>,
): Promise<T> {
  const tsa = await startTsaServer({ configFile: pki.tsaConfig, ...options });
  try {
    return await work(tsa);
  } finally {
    await tsa.close();
  }
}

/** No byte a terminal or the runner would act on: control, bidi and line-separator characters. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

describe('the RFC 3161 client bounds every reply', () => {
  const fast: Partial<TimestampRequestOptions> = { baseDelayMs: 10, maxDelayMs: 50 };
  const stamp = (url: string, extra: Partial<TimestampRequestOptions> = {}) =>
    requestTimestamp(randomBytes(64), { urls: [url], hash: 'sha256', ...fast, ...extra });

  it('cuts an endless body off at 1 MiB, naming the URL and the cap, and does not retry it', async () => {
    await withTsa({ mode: 'endless' }, async (tsa) => {
      await expect(stamp(tsa.url)).rejects.toThrow(
        `the reply from ${tsa.url} exceeds 1 MiB; is this an RFC 3161 timestamp service?`,
      );
      expect(tsa.requests).toBe(1);
    });
  });

  it('reads only the start of an endless error body, quoting it cleaned', async () => {
    await withTsa({ mode: 'endless-error' }, async (tsa) => {
      const error = await stamp(tsa.url).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/HTTP 500 Internal Server Error \(::warning::from the server/);
      expect((error as Error).message).not.toMatch(UNPRINTABLE);
      expect((error as Error).message.length).toBeLessThan(400);
      expect(tsa.requests).toBe(3);
    });
  });

  it('quotes a 4xx body without its control bytes, and moves on at once', async () => {
    await withTsa({ mode: 'forbidden' }, async (tsa) => {
      const error = (await stamp(tsa.url).catch((e: Error) => e)) as Error;
      expect(error.message).toMatch(/HTTP 403 Forbidden \(denied ::warning::from the server here\)/);
      expect(error.message).not.toMatch(UNPRINTABLE);
      expect(tsa.requests).toBe(1);
    });
  });

  it('refuses a reply whose declared length is over the cap without waiting for its body', async () => {
    // Headers announce 2 MiB, then nothing comes: only the declared length can end this early.
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Length': String(2 << 20) });
      response.write('x');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big`;
    try {
      const started = Date.now();
      await expect(
        boundedFetch(url, {}, { maxBytes: 1 << 20, firstByteMs: 5000, totalMs: 5000, hint: 'a hint' }),
      ).rejects.toThrow(`the reply from ${url} exceeds 1 MiB; a hint`);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('gives up on a TSA that accepts and never answers after the first-byte limit, per attempt', async () => {
    await withTsa({ mode: 'stall' }, async (tsa) => {
      const started = Date.now();
      await expect(stamp(tsa.url, { limits: { firstByteMs: 300 } })).rejects.toThrow(
        `${tsa.url} did not answer within 0.3 s`,
      );
      const elapsed = Date.now() - started;
      expect(tsa.requests).toBe(3);
      expect(elapsed).toBeGreaterThanOrEqual(900);
      expect(elapsed).toBeLessThan(3000);
    });
  });

  it('gives up on a reply that trickles in after the whole-reply limit', async () => {
    await withTsa({ mode: 'trickle' }, async (tsa) => {
      const started = Date.now();
      await expect(stamp(tsa.url, { attemptsPerUrl: 1, limits: { totalMs: 700 } })).rejects.toThrow(
        `the reply from ${tsa.url} did not arrive in full within 0.7 s`,
      );
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  it("ends a stalled request at once on the caller's signal, with the caller's reason", async () => {
    await withTsa({ mode: 'stall' }, async (tsa) => {
      const started = Date.now();
      const reason = new Error('the run was cancelled');
      await expect(stamp(tsa.url, { signal: AbortSignal.timeout(300) })).rejects.toThrow(
        /aborted due to timeout/,
      );
      const controller = new AbortController();
      setTimeout(() => controller.abort(reason), 300);
      await expect(stamp(tsa.url, { signal: controller.signal })).rejects.toBe(reason);
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  it('falls back from a stalled TSA to the next one', async () => {
    await withTsa({ mode: 'stall' }, async (tsa) => {
      const result = await stamp(tsa.url, { urls: [tsa.url, good.url], limits: { firstByteMs: 300 } });
      expect(result.url).toBe(good.url);
    });
  });
});

/** Runs the shipped CLI on a fresh copy of a fixture, timestamping with `urls`. */
async function signWith(urls: string[], extra: string[] = []) {
  const file = await copyFixture(
    fixtures.find((f) => f.name === 'pe64.dll')!,
    await scratchDir('hostile-tsa'),
  );
  const before = await readFile(file);
  const run = await runCliMeasured([
    'sign',
    ...keyFlags(pki),
    ...extra,
    '--timestamp-rfc3161',
    urls.join(','),
    file,
  ]);
  return { file, before, run, output: run.stdout + run.stderr };
}

describe('the CLI against a hostile TSA leaves the file unchanged and ends in time', () => {
  it.each([
    ['HTTP 500', { failFirst: 1000 }, /HTTP 500 Internal Server Error \(injected failure\)/],
    ['HTTP 403 with control bytes', { mode: 'forbidden' }, /HTTP 403 Forbidden \(denied ::warning::/],
    ['a rejection', { mode: 'rejection' }, /the TSA refused: status rejection \(policy not accepted\)/],
    ['garbage', { mode: 'garbage' }, /the reply is not an RFC 3161 TimeStampResp/],
    ['an endless error body', { mode: 'endless-error' }, /HTTP 500 Internal Server Error \(::warning::/],
    ['an endless body', { mode: 'endless' }, /exceeds 1 MiB; is this an RFC 3161 timestamp service\?/],
    ['a stall', { mode: 'stall' }, /not signed, unchanged: the 5 s timeout ran out/],
    ['a trickle', { mode: 'trickle' }, /not signed, unchanged: the 5 s timeout ran out/],
  ] as [string, { mode?: TsaMode; failFirst?: number }, RegExp][])('%s', async (_name, options, problem) => {
    await withTsa(options, async (tsa) => {
      const { file, before, run, output } = await signWith([tsa.url], ['--timeout', '5']);
      expect(run.code).toBe(1);
      expect(output).toMatch(problem);
      expect(output).toContain('0 signed, 0 skipped, 1 failed');
      expect((await readFile(file)).equals(before)).toBe(true);
      // The run's own limit is 5 s; the process must also have exited, not lingered on a socket.
      expect(run.elapsedMs).toBeLessThan(10_000);
      expect(output.split('\n').every((line) => !UNPRINTABLE.test(line))).toBe(true);
      // Before the bound, one endless reply grew the process to 14.7 GB.
      expect(run.peakRssMb).toBeLessThan(300);
    });
  });

  it.each([
    ['HTTP 500', { failFirst: 1000 }],
    ['HTTP 403', { mode: 'forbidden' }],
    ['a rejection', { mode: 'rejection' }],
    ['garbage', { mode: 'garbage' }],
    ['an endless body', { mode: 'endless' }],
    ['an endless error body', { mode: 'endless-error' }],
  ] as [string, { mode?: TsaMode; failFirst?: number }][])(
    'falls back from %s to the next TSA, and the file verifies',
    async (_name, options) => {
      await withTsa(options, async (tsa) => {
        const { file, run } = await signWith([tsa.url, good.url]);
        expect(run.code).toBe(0);
        expect(run.stdout).toContain('1 signed, 0 skipped, 0 failed');
        const verdict = await osslVerify(file, pki.rootCa);
        expect(verdict.ok).toBe(true);
        expect(verdict.output).toMatch(/Timestamp Server Signature verification: ok/);
        expect(run.peakRssMb).toBeLessThan(300);
      });
    },
  );

  it('falls back from a TSA that never answers within ~35 s (3 attempts of 10 s), not 94 s', async () => {
    await withTsa({ mode: 'stall' }, async (tsa) => {
      const { file, run } = await signWith([tsa.url, good.url]);
      expect(run.code).toBe(0);
      expect(tsa.requests).toBe(3);
      expect(run.elapsedMs).toBeGreaterThanOrEqual(30_000);
      expect(run.elapsedMs).toBeLessThan(45_000);
      expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
    });
  });
});
