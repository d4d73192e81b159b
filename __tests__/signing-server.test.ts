// The signing-server key store end to end: the shipped Action and CLI sign PE files through a real
// `vaultsign serve` process that holds the key on a SoftHSM2 token; the job proves who it is with an ID
// token from the GitHub OIDC emulator (as the runner hands them out) or a static client token.
// osslsigncode judges every signed file; a refused or cut-off run leaves each file as it was.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Inputs } from '../src/config/inputs.js';
import { chooseKeyStore } from '../src/signers/key-stores.js';
import { signingServerKeyStore } from '../src/signers/signing-server/key-store.js';
import { startGithubOidc, type GithubOidc } from '../test/emulators/github-oidc.js';
import { expectOsslVerified } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';
import { auditLines, startServe, writeServeConfig, type ServeProcess } from '../test/serve-process.js';
import { SOFTHSM_MODULE, softHsmToken, type SoftHsmToken } from '../test/softhsm.js';

const AUDIENCE = 'https://sign.example.test';
const PIN = '902137';
const CLIENT_TOKEN = randomBytes(32).toString('hex');

let pki: TestPki;
let fixtures: PeFixture[];
let token: SoftHsmToken;
/** The job's claims, read by the emulator on each token request: a test may act as another branch. */
const job = { subject: 'repo:acme/app:ref:refs/heads/main', claims: { ref: 'refs/heads/main' } };
let github: GithubOidc;
let dir: string;

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  token = await softHsmToken('signing-server', PIN, [
    { label: 'rsa-key', id: '01', key: pki.leaves.rsa.key, certificate: pki.leaves.rsa.cert },
  ]);
  github = await startGithubOidc(pki, job);
  dir = await scratchDir('signing-server');
}, 300_000);

afterAll(async () => {
  await github?.close();
});

async function startServer(name: string, perMinute = 600): Promise<{ serve: ServeProcess; audit: string }> {
  const audit = join(dir, `${name}.audit.jsonl`);
  const config = await writeServeConfig(join(dir, `${name}.json`), {
    tls: { cert: pki.https.cert, key: pki.https.key },
    key: {
      'pkcs11-module': SOFTHSM_MODULE,
      'pkcs11-token-label': token.label,
      'pkcs11-key-label': 'rsa-key',
      'additional-certificates': pki.intermediateCa,
    },
    auditLog: audit,
    oidc: { issuer: github.issuer, audience: AUDIENCE },
    allow: [{ repository: 'acme/app', ref: 'refs/heads/main' }],
    tokens: { jenkins: CLIENT_TOKEN },
    perMinute,
  });
  const serve = await startServe(config, {
    ...token.env,
    NODE_EXTRA_CA_CERTS: pki.https.ca,
    VAULTSIGN_PKCS11_PIN: PIN,
  });
  return { serve, audit };
}

/** `count` copies of a 64-bit exe and a 32-bit dll in a fresh folder, and their bytes. */
async function someFiles(label: string, count: number) {
  const folder = await scratchDir(label);
  const exe = fixtures.find((f) => f.kind === 'exe' && f.bits === 64 && !f.overlay)!;
  const dll = fixtures.find((f) => f.kind === 'dll' && f.bits === 32 && !f.overlay)!;
  const files = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      copyFixture(i % 2 ? dll : exe, folder, `file${i}.${i % 2 ? 'dll' : 'exe'}`),
    ),
  );
  return { folder, files, before: await Promise.all(files.map((f) => readFile(f))) };
}

const expectVerified = (files: readonly string[]) => expectOsslVerified(files, pki.rootCa);

const jobEnv = () => ({
  ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  NODE_EXTRA_CA_CERTS: pki.https.ca,
});

describe('the signing-server key store against vaultsign serve with a SoftHSM2 key', () => {
  let server: { serve: ServeProcess; audit: string };

  beforeAll(async () => {
    server = await startServer('main');
  }, 120_000);

  afterAll(async () => {
    server?.serve.child.kill('SIGTERM');
    await server?.serve.exited;
  });

  it('the Action signs PE files through the server with the GitHub OIDC ID token of an allowed ref', async () => {
    const set = await someFiles('server-action', 4);
    const run = await runAction(
      {
        'signing-server-url': server.serve.url,
        'signing-server-audience': AUDIENCE,
        'files-folder': set.folder,
        'timestamp-rfc3161': 'none',
      },
      jobEnv(),
    );
    expect({ code: run.code, log: run.code ? run.log : '' }).toEqual({ code: 0, log: '' });
    expect(run.outputs['signed-count']).toBe('4');
    expect(run.log).toContain(`signing server ${server.serve.url}`);
    await expectVerified(set.files);
    const signed = (await auditLines(server.audit)).filter((l) => l.result === 'signed');
    expect(signed).toHaveLength(4);
    // Each signature request declares its file, for the audit log.
    expect(signed.flatMap((l) => l.files).sort()).toEqual([
      'file0.exe',
      'file1.dll',
      'file2.exe',
      'file3.dll',
    ]);
    expect(signed[0].caller).toMatchObject({
      githubOidc: { repository: 'acme/app', ref: 'refs/heads/main' },
    });
    const serverOutput = `${await readFile(server.audit, 'utf8')}${server.serve.stdout()}${server.serve.stderr()}`;
    for (const secret of [PIN, ...github.issued]) expect(serverOutput.includes(secret)).toBe(false);
  }, 120_000);

  it('a job on a branch outside the allow-list is refused with the claim that failed; no file is touched', async () => {
    const set = await someFiles('server-refused', 2);
    job.claims.ref = 'refs/heads/dev';
    try {
      const run = await runAction(
        {
          'signing-server-url': server.serve.url,
          'signing-server-audience': AUDIENCE,
          'files-folder': set.folder,
          'timestamp-rfc3161': 'none',
        },
        jobEnv(),
      );
      expect(run.code).not.toBe(0);
      expect(run.log).toContain('HTTP 403');
      expect(run.log).toContain('no allow-list entry admits this token (ref: refs/heads/dev)');
    } finally {
      job.claims.ref = 'refs/heads/main';
    }
    for (const [i, file] of set.files.entries())
      expect((await readFile(file)).equals(set.before[i])).toBe(true);
    const refused = (await auditLines(server.audit)).filter((l) => l.status === 403);
    expect(refused.at(-1)).toMatchObject({
      request: 'GET /certificate',
      caller: { githubOidc: { ref: 'refs/heads/dev' } },
    });
  }, 120_000);

  it('the CLI signs with a static client token from the environment; a wrong one is refused before any file', async () => {
    const set = await someFiles('server-cli', 2);
    const args = [
      'sign',
      '--signing-server-url',
      server.serve.url,
      '--timestamp-rfc3161',
      'none',
      ...set.files,
    ];
    const run = await runCli(args, {
      env: { NODE_EXTRA_CA_CERTS: pki.https.ca, VAULTSIGN_SIGNING_SERVER_TOKEN: CLIENT_TOKEN },
    });
    expect({ code: run.code, stderr: run.stderr }).toEqual({
      code: 0,
      stderr: expect.not.stringMatching(/error/),
    });
    await expectVerified(set.files);
    expect(
      (await auditLines(server.audit)).filter(
        (l) => (l.caller as { token?: string })?.token === 'jenkins' && l.result === 'signed',
      ),
    ).toHaveLength(2);

    const other = await someFiles('server-cli-wrong', 2);
    const wrong = await runCli(
      ['sign', '--signing-server-url', server.serve.url, '--timestamp-rfc3161', 'none', ...other.files],
      { env: { NODE_EXTRA_CA_CERTS: pki.https.ca, VAULTSIGN_SIGNING_SERVER_TOKEN: 'not-the-token' } },
    );
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('HTTP 401');
    expect(wrong.stderr).toContain('check signing-server-token');
    expect(wrong.stdout + wrong.stderr).not.toContain(CLIENT_TOKEN);
    for (const [i, file] of other.files.entries())
      expect((await readFile(file)).equals(other.before[i])).toBe(true);
  }, 120_000);
});

describe('a signing server that limits the rate', () => {
  it('the client waits as Retry-After says, through one gate, and every file is signed', async () => {
    const { serve, audit } = await startServer('throttled', 60);
    try {
      const set = await someFiles('server-throttled', 64);
      const started = performance.now();
      const run = await runCli(
        ['sign', '--signing-server-url', serve.url, '--timestamp-rfc3161', 'none', '--quiet', ...set.files],
        { env: { NODE_EXTRA_CA_CERTS: pki.https.ca, VAULTSIGN_SIGNING_SERVER_TOKEN: CLIENT_TOKEN } },
      );
      const seconds = (performance.now() - started) / 1000;
      expect({ code: run.code, stderr: run.stderr }).toEqual({
        code: 0,
        stderr: expect.not.stringMatching(/error/),
      });
      expect(run.stdout).toContain('64 signed, 0 skipped, 0 failed');
      const lines = await auditLines(audit);
      const throttled = lines.filter((l) => l.status === 429).length;
      expect(throttled).toBeGreaterThan(0);
      expect(lines.filter((l) => l.result === 'signed')).toHaveLength(64);
      await expectVerified(set.files);
      console.log(`64 files at 60 signatures a minute: ${seconds.toFixed(1)} s, ${throttled} answers 429`);
    } finally {
      serve.child.kill('SIGTERM');
      await serve.exited;
    }
  }, 120_000);
});

describe('a signing server that dies mid-run', () => {
  it('leaves every client file original or validly signed', async () => {
    const { serve, audit } = await startServer('killed');
    const set = await someFiles('server-killed', 40);
    const run = runCli(
      [
        'sign',
        '--signing-server-url',
        serve.url,
        '--timestamp-rfc3161',
        'none',
        '--concurrency',
        '4',
        '--timeout',
        '10',
        ...set.files,
      ],
      { env: { NODE_EXTRA_CA_CERTS: pki.https.ca, VAULTSIGN_SIGNING_SERVER_TOKEN: CLIENT_TOKEN } },
    );
    // Killed once a few signatures have gone out: without a chance to answer the rest.
    const auditedSignatures = () =>
      readFile(audit, 'utf8').then(
        (t) => t.split('"result":"signed"').length - 1,
        () => 0,
      );
    for (let i = 0; i < 400 && (await auditedSignatures()) < 5; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    serve.child.kill('SIGKILL');
    await serve.exited;
    const audited = await auditedSignatures();
    const done = await run;
    expect(done.code).toBe(1);
    let signed = 0;
    for (const [i, file] of set.files.entries()) {
      const bytes = await readFile(file);
      if (bytes.equals(set.before[i])) continue;
      signed++;
      await expectVerified([file]);
    }
    const reported = Number(/(\d+) signed, 0 skipped, (\d+) failed/.exec(done.stdout + done.stderr)?.[1]);
    expect(signed).toBe(reported);
    // No signature left the server without its audit line.
    expect(signed).toBeGreaterThanOrEqual(1);
    expect(signed).toBeLessThanOrEqual(audited);
    expect(signed).toBeLessThan(40);
    console.log(
      `signing server killed mid-run: ${signed} of 40 files signed (${audited} audited), the rest untouched`,
    );
  }, 120_000);
});

describe('signing-server inputs', () => {
  const configure = (inputs: Inputs) => chooseKeyStore(inputs, []).configured;

  it('is chosen by its inputs, and refuses plain http off this machine, two credentials or none', () => {
    expect(
      chooseKeyStore({ 'signing-server-url': 'https://sign.example.test', 'signing-server-token': 't' }, [])
        .store,
    ).toBe(signingServerKeyStore);
    expect(() =>
      configure({ 'signing-server-url': 'http://sign.example.test', 'signing-server-token': 't' }),
    ).toThrow('signing-server-url: "http://sign.example.test" is not https://');
    expect(() =>
      configure({ 'signing-server-url': 'http://127.0.0.1:8080', 'signing-server-token': 't' }),
    ).not.toThrow();
    expect(() =>
      configure({
        'signing-server-url': 'https://s.test',
        'signing-server-token': 't',
        'signing-server-audience': 'a',
      }),
    ).toThrow('signing-server-token and signing-server-audience both say how to sign in: give one');
    expect(() => configure({ 'signing-server-url': 'https://s.test' })).toThrow(
      'the signing server needs credentials: give signing-server-audience (GitHub OIDC, no stored secret) or signing-server-token',
    );
    expect(() => configure({ 'signing-server-token': 't' })).toThrow('signing-server-url is missing');
  });

  it('with an audience but no id-token permission, says what to add to the job', async () => {
    const configured = configure({
      'signing-server-url': 'https://s.test',
      'signing-server-audience': AUDIENCE,
    });
    await expect(configured.open({ env: {}, mask: () => undefined })).rejects.toThrow(
      /GitHub OIDC is not available to this job: it lacks the id-token permission; add to the job[\s\S]*id-token: write/,
    );
  });
});
