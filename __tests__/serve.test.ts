// `vaultsign serve` as users run it: the shipped CLI as a real process on loopback, HTTPS with the test
// PKI's server certificate, callers authenticated by ID tokens of the GitHub OIDC emulator or by static
// client tokens. Signatures are checked with Node's crypto against the certificate the server hands out.
import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubOidc, type GithubOidc } from '../test/emulators/github-oidc.js';
import { scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';
import { PKCS11_SPY, softHsmToken, spyCalls, spyCallsSerial, spyEnv } from '../test/softhsm.js';
import {
  auditLines,
  serveClient,
  startServe,
  writeServeConfig,
  type Reply,
  type ServeProcess,
} from '../test/serve-process.js';

const AUDIENCE = 'https://sign.example.test';
const STATIC_TOKEN = randomBytes(32).toString('hex');

let pki: TestPki;
let github: GithubOidc;
/** Another issuer: its tokens must never pass. */
let foreign: GithubOidc;
let dir: string;

beforeAll(async () => {
  pki = await ensureTestPki();
  [github, foreign] = await Promise.all([
    startGithubOidc(pki, { subject: 'repo:acme/app:ref:refs/heads/main' }),
    startGithubOidc(pki, { subject: 'repo:acme/app:ref:refs/heads/main' }),
  ]);
  dir = await scratchDir('serve');
}, 120_000);

afterAll(async () => {
  await Promise.all([github?.close(), foreign?.close()]);
});

/** The claims of a job on acme/app's main branch, in the release environment, overridden by `claims`. */
function idToken(claims: Record<string, unknown> = {}, issuer: GithubOidc = github): string {
  const now = Math.floor(Date.now() / 1000);
  const token = issuer.jwt.issue({
    iss: issuer.issuer,
    aud: AUDIENCE,
    sub: 'repo:acme/app:environment:release',
    repository: 'acme/app',
    repository_owner: 'acme',
    ref: 'refs/heads/main',
    environment: 'release',
    workflow: 'release',
    job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
    run_id: '4242',
    actor: 'octocat',
    iat: now,
    nbf: now - 5,
    exp: now + 300,
    ...claims,
  });
  issuer.issued.push(token);
  return token;
}

interface Config {
  allow: Record<string, string>[];
  perMinute: number;
  key?: Record<string, string>;
}

function writeConfig(file: string, { allow, perMinute, key }: Config): Promise<string> {
  return writeServeConfig(file, {
    tls: { cert: pki.https.cert, key: pki.https.key },
    key: key ?? { 'certificate-file': pki.leaves.rsa.chain, 'private-key-file': pki.leaves.rsa.key },
    auditLog: `${file}.audit.jsonl`,
    oidc: { issuer: github.issuer, audience: AUDIENCE },
    allow,
    tokens: { jenkins: STATIC_TOKEN },
    perMinute,
  });
}

const MAIN_ONLY = [{ repository: 'acme/app', ref: 'refs/heads/main', environment: 'release' }];

/** The audit log of the server that `config` configures. */
const auditOf = (config: string) => auditLines(`${config}.audit.jsonl`);

/** A digest of fresh random data, and the body that asks for its signature. */
function signRequest(files = ['app.dll']) {
  const data = randomBytes(64);
  const digest = createHash('sha256').update(data).digest();
  return { data, digest, body: { digest: digest.toString('base64'), hash: 'sha256', files } };
}

function expectValidSignature(reply: Reply, data: Buffer, leaf: X509Certificate): void {
  expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 200, error: undefined });
  const signature = Buffer.from(reply.body.signature as string, 'base64');
  expect(verify('sha256', data, leaf.publicKey, signature)).toBe(true);
  expect((reply.body.certificates as string[])[0]).toBe(leaf.raw.toString('base64'));
}

describe('vaultsign serve with a local key', () => {
  let config: string;
  let serve: ServeProcess;
  let client: ReturnType<typeof serveClient>;
  let leaf: X509Certificate;

  beforeAll(async () => {
    config = await writeConfig(join(dir, 'local.json'), { allow: MAIN_ONLY, perMinute: 600 });
    serve = await startServe(config, { NODE_EXTRA_CA_CERTS: pki.https.ca });
    client = serveClient(serve.url, pki.https.ca);
    leaf = new X509Certificate(await readFile(pki.leaves.rsa.cert));
  }, 120_000);

  afterAll(async () => {
    client?.close();
    if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  });

  it('answers health checks without a token, and hands out the chain to a caller the allow-list admits', async () => {
    expect(serve.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await client.call('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const reply = await client.call('GET', '/certificate', { token: idToken() });
    expect(reply.status).toBe(200);
    const chain = (reply.body.certificates as string[]).map(
      (c) => new X509Certificate(Buffer.from(c, 'base64')),
    );
    expect(chain[0].raw.equals(leaf.raw)).toBe(true);
    expect(chain[1].raw.equals(new X509Certificate(await readFile(pki.intermediateCa)).raw)).toBe(true);
    expect((await client.call('GET', '/certificate')).status).toBe(401);
  });

  it('signs a digest for an allowed ref: the signature verifies with the certificate', async () => {
    const { data, body } = signRequest();
    expectValidSignature(await client.call('POST', '/sign', { token: idToken(), body }), data, leaf);
  });

  it.each([
    ['ref', { ref: 'refs/heads/feature' }],
    ['repository', { repository: 'evil/app' }],
    ['environment', { environment: 'staging' }],
  ])('refuses a token whose %s is outside the allow-list (403 naming the claim)', async (claim, claims) => {
    const reply = await client.call('POST', '/sign', { token: idToken(claims), body: signRequest().body });
    expect(reply.status).toBe(403);
    expect(reply.body.error).toContain(`(${claim}: ${Object.values(claims)[0]})`);
    expect(reply.body.error).toContain(`1: ${claim}`);
  });

  it('refuses an expired token, a token of another issuer and a forged one (401)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await client.call('POST', '/sign', {
      token: idToken({ iat: now - 900, nbf: now - 900, exp: now - 600 }),
      body: signRequest().body,
    });
    expect(expired).toMatchObject({ status: 401, body: { error: expect.stringContaining('expired') } });
    const other = await client.call('POST', '/sign', {
      token: idToken({}, foreign),
      body: signRequest().body,
    });
    expect(other).toMatchObject({ status: 401, body: { error: expect.stringContaining(foreign.issuer) } });
    // The right issuer named, the other issuer's key: the signature check decides.
    const forged = foreign.jwt.issue({
      ...JSON.parse(Buffer.from(idToken().split('.')[1], 'base64url').toString()),
    });
    foreign.issued.push(forged);
    const refused = await client.call('POST', '/sign', { token: forged, body: signRequest().body });
    expect(refused.status).toBe(401);
    const audience = await client.call('POST', '/sign', {
      token: idToken({ aud: 'other' }),
      body: signRequest().body,
    });
    expect(audience).toMatchObject({ status: 401, body: { error: expect.stringContaining('aud') } });
  });

  it('accepts the static client token and refuses a wrong one', async () => {
    const { data, body } = signRequest(['tool.exe']);
    expectValidSignature(await client.call('POST', '/sign', { token: STATIC_TOKEN, body }), data, leaf);
    const wrong = await client.call('POST', '/sign', { token: randomBytes(32).toString('hex'), body });
    expect(wrong.status).toBe(401);
  });

  it('refuses a malformed request (400) without signing', async () => {
    const reply = await client.call('POST', '/sign', {
      token: STATIC_TOKEN,
      body: { digest: randomBytes(20).toString('base64'), hash: 'sha256' },
    });
    expect(reply).toMatchObject({ status: 400, body: { error: expect.stringContaining('digest') } });
  });

  it('answers 50 concurrent clients, each with a valid signature of its own digest', async () => {
    const started = performance.now();
    const clients = Array.from({ length: 50 }, () => serveClient(serve.url, pki.https.ca));
    const requests = clients.map((c, i) => ({ c, ...signRequest([`file${i}.dll`]) }));
    const replies = await Promise.all(
      requests.map(({ c, body }) => c.call('POST', '/sign', { token: idToken(), body })),
    );
    const ms = performance.now() - started;
    clients.forEach((c) => c.close());
    replies.forEach((reply, i) => expectValidSignature(reply, requests[i].data, leaf));
    console.log(`serve: 50 concurrent sign requests (local RSA-2048 key) answered in ${ms.toFixed(0)} ms`);
  });

  it('writes every request to the audit log, and no token anywhere in the log or the output', async () => {
    const lines = await auditOf(config);
    const signed = lines.filter((l) => l.result === 'signed');
    // 1 + static 1 + 50 concurrent.
    expect(signed).toHaveLength(52);
    expect(lines.filter((l) => l.request === 'GET /certificate')).toHaveLength(2);
    const refused = lines.filter((l) => l.result === 'refused');
    // No token for the chain, 3 outside the allow-list, 4 bad tokens, 1 wrong static token, 1 malformed.
    expect(refused).toHaveLength(10);
    const first = signed[0];
    expect(first).toMatchObject({
      request: 'POST /sign',
      hash: 'sha256',
      files: ['app.dll'],
      status: 200,
      caller: {
        githubOidc: {
          repository: 'acme/app',
          ref: 'refs/heads/main',
          environment: 'release',
          workflow: 'release',
          job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
          run_id: '4242',
          actor: 'octocat',
        },
      },
    });
    expect(first.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(first.time as string).getTime()).toBeGreaterThan(Date.now() - 600_000);
    expect(signed.find((l) => (l.files as string[])[0] === 'tool.exe')?.caller).toEqual({ token: 'jenkins' });
    expect(refused.find((l) => l.status === 403)?.reason).toContain('ref: refs/heads/feature');
    const everything = `${await readFile(`${config}.audit.jsonl`, 'utf8')}${serve.stdout()}${serve.stderr()}`;
    for (const secret of [STATIC_TOKEN, ...github.issued, ...foreign.issued])
      expect(everything.includes(secret)).toBe(false);
  });

  it('signs a batch digest by digest: each its own result and audit line; a bad one fails alone', async () => {
    const [first, second] = [signRequest(['a.dll']), signRequest(['b.dll'])];
    const bad = { ...signRequest(['c.dll']).body, hash: 'md5' };
    const reply = await client.call('POST', '/sign', {
      token: idToken(),
      body: { batch: [first.body, bad, second.body] },
    });
    expect(reply.status).toBe(200);
    const results = reply.body.results as Record<string, unknown>[];
    expect(results).toHaveLength(3);
    expectValidSignature({ ...reply, body: results[0] }, first.data, leaf);
    expect(results[1]).toEqual({ status: 400, error: expect.stringContaining('hash: expected one of') });
    expectValidSignature({ ...reply, body: results[2] }, second.data, leaf);
    const lines = (await auditOf(config)).slice(-3);
    expect(lines.map((l) => [(l.files as string[])[0], l.result, l.status])).toEqual([
      ['a.dll', 'signed', 200],
      ['c.dll', 'refused', 400],
      ['b.dll', 'signed', 200],
    ]);
    expect(lines[0].digest).toBe(first.digest.toString('hex'));

    const tooMany = Array.from({ length: 65 }, () => signRequest().body);
    const refused = await client.call('POST', '/sign', { token: idToken(), body: { batch: tooMany } });
    expect(refused).toMatchObject({ status: 400, body: { error: expect.stringContaining('1 to 64') } });
    const outsider = await client.call('POST', '/sign', {
      token: idToken({ ref: 'refs/heads/feature' }),
      body: { batch: [first.body, second.body] },
    });
    expect(outsider.status).toBe(403);
    const audited = (await auditOf(config)).slice(-2);
    expect(audited.map((l) => [(l.files as string[])[0], l.result, l.status])).toEqual([
      ['a.dll', 'refused', 403],
      ['b.dll', 'refused', 403],
    ]);
  });

  it('reloads the allow-list and the rate limit on SIGHUP; a bad config keeps the running one', async () => {
    await writeFile(config, '{ not json');
    serve.child.kill('SIGHUP');
    await expect(waitForStderr(serve, /reload of .* refused/)).resolves.toBeUndefined();
    expect((await client.call('POST', '/sign', { token: idToken(), body: signRequest().body })).status).toBe(
      200,
    );

    await writeConfig(config, {
      allow: [{ repository: 'acme/app', ref: 'refs/heads/feature' }],
      perMinute: 2,
    });
    serve.child.kill('SIGHUP');
    await serve.waitForOutput(/reloaded/);
    const main = await client.call('POST', '/sign', { token: idToken(), body: signRequest().body });
    expect(main).toMatchObject({
      status: 403,
      body: { error: expect.stringContaining('ref: refs/heads/main') },
    });
    const feature = idToken({ ref: 'refs/heads/feature' });
    const { data, body } = signRequest();
    expectValidSignature(await client.call('POST', '/sign', { token: feature, body }), data, leaf);
    // Two a minute: of a batch of two, the second waits, with when to come back.
    const batch = await client.call('POST', '/sign', { token: feature, body: { batch: [body, body] } });
    expect(batch.status).toBe(200);
    const results = batch.body.results as Record<string, unknown>[];
    expect(results.map((r) => r.status ?? 200)).toEqual([200, 429]);
    expect(results[1].retryAfterMs).toBeGreaterThan(1000);
    expect(results[1].retryAfterMs).toBeLessThanOrEqual(30_000);
    // A single request over the rate is refused as a whole, with Retry-After.
    const limited = await client.call('POST', '/sign', { token: feature, body });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(30);
    // Another caller has its own budget.
    expect((await client.call('POST', '/sign', { token: STATIC_TOKEN, body })).status).toBe(200);
  });

  it('on SIGTERM stops accepting, answers the request in flight, then exits 0', async () => {
    // A caller that hangs up halfway through its request (a cancelled job) must not hold up the stop.
    const quitter = serveClient(serve.url, pki.https.ca);
    const hungUp = quitter
      .call('POST', '/sign', {
        token: STATIC_TOKEN,
        body: signRequest(['gone.dll']).body,
        during: async (req) => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          req.destroy();
        },
      })
      .catch(() => 'hung up');
    expect(await hungUp).toBe('hung up');
    quitter.close();
    const { data, body } = signRequest(['last.dll']);
    const late = serveClient(serve.url, pki.https.ca);
    const reply = late.call('POST', '/sign', {
      token: STATIC_TOKEN,
      body,
      // Half the request is sent when the signal arrives.
      during: async () => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        serve.child.kill('SIGTERM');
        await serve.waitForOutput(/SIGTERM: no new requests/);
        const refused = await serveClient(serve.url, pki.https.ca)
          .call('GET', '/healthz')
          .then(
            () => 'answered',
            (error: NodeJS.ErrnoException) => error.code,
          );
        // Refused, or (a connection the kernel had queued before the listener closed) reset: never answered.
        expect(['ECONNREFUSED', 'ECONNRESET']).toContain(refused);
      },
    });
    expectValidSignature(await reply, data, leaf);
    late.close();
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(serve.stdout()).toContain('vaultsign serve: stopped');
    expect(serve.stderr()).not.toContain('unexpected error');
    const lines = await auditOf(config);
    expect(lines.find((l) => (l.files as string[] | undefined)?.[0] === 'gone.dll')).toBeUndefined();
    expect(lines.filter((l) => l.result === 'cancelled')).toEqual([
      expect.objectContaining({
        request: 'POST /sign',
        status: 499,
        reason: expect.stringContaining('closed'),
      }),
    ]);
    expect(lines.at(-1)).toMatchObject({
      files: ['last.dll'],
      result: 'signed',
      caller: { token: 'jenkins' },
    });
  });
});

async function waitForStderr(serve: ServeProcess, pattern: RegExp): Promise<void> {
  for (let i = 0; i < 100 && !pattern.test(serve.stderr()); i++) await new Promise((r) => setTimeout(r, 50));
  if (!pattern.test(serve.stderr())) throw new Error(`no ${pattern} in stderr: ${serve.stderr()}`);
}

describe('vaultsign serve start-up errors', () => {
  it('exits 2 with a clear message on a bad config, a missing key file and plain HTTP off loopback', async () => {
    const bad = join(dir, 'bad.json');
    await writeConfig(bad, { allow: [{ ref: 'refs/heads/main' }], perMinute: 10 });
    let run = await runCli(['serve', '--config', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}: allow[0]: names no repository`);

    await writeConfig(bad, {
      allow: MAIN_ONLY,
      perMinute: 10,
      key: { 'certificate-file': pki.leaves.rsa.chain, 'private-key-file': join(dir, 'missing.pem') },
    });
    run = await runCli(['serve', '--config', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('missing.pem');

    const text = JSON.parse(await readFile(bad, 'utf8')) as Record<string, unknown>;
    await writeFile(bad, JSON.stringify({ ...text, tls: undefined, listen: { host: '0.0.0.0', port: 0 } }));
    run = await runCli(['serve', '--config', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${bad}: tls: missing`);
    expect((await runCli(['serve', '--help'])).stdout).toMatch(/^Usage: vaultsign serve --config FILE/);
  });
});

describe('vaultsign serve with a PKCS#11 token (SoftHSM2 behind pkcs11-spy)', () => {
  it('answers 50 concurrent clients with one token operation at a time, logs no PIN, closes the session on SIGTERM', async () => {
    const pin = '615243';
    const token = await softHsmToken('serve-test', pin, [
      { label: 'rsa-key', id: '01', key: pki.leaves.rsa.key, certificate: pki.leaves.rsa.cert },
    ]);
    const spyLog = join(token.dir, 'spy.log');
    const config = await writeConfig(join(dir, 'token.json'), {
      allow: MAIN_ONLY,
      perMinute: 600,
      key: { 'pkcs11-module': PKCS11_SPY, 'pkcs11-token-label': token.label, 'pkcs11-key-label': 'rsa-key' },
    });
    const serve = await startServe(config, {
      NODE_EXTRA_CA_CERTS: pki.https.ca,
      VAULTSIGN_PKCS11_PIN: pin,
      ...spyEnv(token, spyLog),
    });
    try {
      expect(serve.stdout()).toContain('PKCS#11');
      const leaf = new X509Certificate(await readFile(pki.leaves.rsa.cert));
      const clients = Array.from({ length: 50 }, () => serveClient(serve.url, pki.https.ca));
      const requests = clients.map((c, i) => ({ c, ...signRequest([`file${i}.dll`]) }));
      const started = performance.now();
      const replies = await Promise.all(
        requests.map(({ c, body }) => c.call('POST', '/sign', { token: idToken(), body })),
      );
      const ms = performance.now() - started;
      clients.forEach((c) => c.close());
      replies.forEach((reply, i) => expectValidSignature(reply, requests[i].data, leaf));
      console.log(
        `serve: 50 concurrent sign requests (SoftHSM2 RSA-2048 via pkcs11-spy) answered in ${ms.toFixed(0)} ms`,
      );
      expect(await spyCallsSerial(spyLog)).toBe(true);
      // The key store's probe and the server's at start-up, then the 50: none lost, none repeated.
      const signCalls = async () => (await spyCalls(spyLog)).filter((c) => c.name === 'C_Sign').length;
      expect(await signCalls()).toBe(52);

      // A caller that hangs up once the token is on its batch: the digests still queued are dropped.
      const batch = Array.from({ length: 64 }, (_, i) => signRequest([`batch${i}.dll`]).body);
      const quitter = serveClient(serve.url, pki.https.ca);
      const hungUp = quitter
        .call('POST', '/sign', {
          token: idToken(),
          body: { batch },
          during: async (req) => {
            void (async () => {
              while ((await signCalls()) === 52) await new Promise((resolve) => setTimeout(resolve, 2));
              req.destroy();
            })();
          },
        })
        .catch(() => 'hung up');
      expect(await hungUp).toBe('hung up');
      quitter.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      const outcomes = (await auditOf(config))
        .filter((l) => /^batch\d+\.dll$/.test((l.files as string[])[0]))
        .map((l) => l.result);
      expect(outcomes).toHaveLength(64);
      const cancelled = outcomes.filter((result) => result === 'cancelled').length;
      expect(cancelled).toBeGreaterThan(0);
      expect(outcomes.filter((result) => result === 'signed')).toHaveLength(64 - cancelled);
      expect(await signCalls()).toBe(52 + 64 - cancelled);
      console.log(
        `serve: a caller hung up during a batch of 64: ${64 - cancelled} signed, ${cancelled} dropped`,
      );
      serve.child.kill('SIGTERM');
      expect(await serve.exited).toEqual({ code: 0, signal: null });
      expect((await spyCalls(spyLog)).map((c) => c.name)).toContain('C_Finalize');
      expect((await auditOf(config)).filter((l) => l.result === 'signed')).toHaveLength(50 + 64 - cancelled);
      const everything = `${await readFile(`${config}.audit.jsonl`, 'utf8')}${serve.stdout()}${serve.stderr()}`;
      expect(everything.includes(pin)).toBe(false);
    } finally {
      if (serve.child.exitCode === null) serve.child.kill('SIGKILL');
    }
  }, 120_000);
});
