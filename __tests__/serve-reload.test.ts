// `vaultsign serve` (the shipped CLI as a real process) while the world around it changes: its TLS
// certificate replaced on disk and SIGHUP sent, and the GitHub OIDC issuer's keys out of reach.
import { execFile } from 'node:child_process';
import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startGithubOidc, type GithubOidc } from '../test/emulators/github-oidc.js';
import { scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import {
  auditLines,
  serveClient,
  startServe,
  writeServeConfig,
  type Reply,
  type ServeProcess,
} from '../test/serve-process.js';

const AUDIENCE = 'https://sign.example.test';
const SUBJECT = 'repo:acme/app:ref:refs/heads/main';
const STATIC_TOKEN = randomBytes(32).toString('hex');

let pki: TestPki;
let dir: string;
let leaf: X509Certificate;

beforeAll(async () => {
  pki = await ensureTestPki();
  dir = await scratchDir('serve-reload');
  leaf = new X509Certificate(await readFile(pki.leaves.rsa.cert));
}, 120_000);

/** A config like the README's, with the server certificate files and the issuer given. */
function writeConfig(
  name: string,
  tls: { cert: string; key: string },
  issuer: string,
  clientToken = STATIC_TOKEN,
) {
  return writeServeConfig(join(dir, `${name}.json`), {
    tls,
    key: { 'certificate-file': pki.leaves.rsa.chain, 'private-key-file': pki.leaves.rsa.key },
    auditLog: join(dir, `${name}.audit.jsonl`),
    oidc: { issuer, audience: AUDIENCE },
    allow: [{ repository: 'acme/app', ref: 'refs/heads/main' }],
    tokens: { jenkins: clientToken },
    perMinute: 600,
  });
}

/** The audit log of the server configured as `name`. */
const auditOf = (name: string) => auditLines(join(dir, `${name}.audit.jsonl`));

/** Asks for the signature of a fresh digest; the reply and the data the digest is of. */
async function sign(client: ReturnType<typeof serveClient>, token: string) {
  const data = randomBytes(64);
  const digest = createHash('sha256').update(data).digest('base64');
  const reply = await client.call('POST', '/sign', {
    token,
    body: { digest, hash: 'sha256', files: ['app.dll'] },
  });
  return { reply, data };
}

function expectValidSignature(reply: Reply, data: Buffer): void {
  expect({ status: reply.status, error: reply.body.error }).toEqual({ status: 200, error: undefined });
  const signature = Buffer.from(reply.body.signature as string, 'base64');
  expect(verify('sha256', data, leaf.publicKey, signature)).toBe(true);
}

/** Resolves once `condition` holds, polling; rejects with `what` after `timeoutMs`. */
async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SIGHUP reads the TLS certificate and key again', () => {
  let tls: { cert: string; key: string };
  let serve: ServeProcess;
  let certA: X509Certificate;
  /** Certificate B: self-signed for 127.0.0.1 by openssl, trusted by the clients alongside the HTTPS CA. */
  let certB: { cert: string; key: string; x509: X509Certificate };
  let trusted: string;

  beforeAll(async () => {
    tls = { cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
    await Promise.all([copyFile(pki.https.cert, tls.cert), copyFile(pki.https.key, tls.key)]);
    certA = new X509Certificate(await readFile(tls.cert));
    const b = { cert: join(dir, 'b.pem'), key: join(dir, 'b.key') };
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1/O=vaultsign tests B',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      b.key,
      '-out',
      b.cert,
    ]);
    certB = { ...b, x509: new X509Certificate(await readFile(b.cert)) };
    trusted = join(dir, 'trusted.pem');
    await writeFile(trusted, (await readFile(pki.https.ca, 'utf8')) + (await readFile(b.cert, 'utf8')));
    // No issuer is contacted here: only the static token is used.
    serve = await startServe(await writeConfig('tls', tls, 'https://localhost:9'));
  }, 60_000);

  afterAll(() => {
    if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  });

  /** The certificate a new TLS connection to the server is given (the client trusts A's CA and B). */
  async function servedCertificate(): Promise<X509Certificate> {
    const port = Number(new URL(serve.url).port);
    const ca = await readFile(trusted);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca }, () => {
        const { raw } = socket.getPeerCertificate();
        socket.destroy();
        resolve(new X509Certificate(raw));
      });
      socket.on('error', reject);
    });
  }

  /** The client token of the edited config: it takes effect with the certificate, or not at all. */
  const nextToken = randomBytes(32).toString('hex');

  it('keeps certificate A and the running access rules when the certificate file is garbage, and names the file', async () => {
    expect((await servedCertificate()).fingerprint256).toBe(certA.fingerprint256);
    await writeConfig('tls', tls, 'https://localhost:9', nextToken);
    await writeFile(tls.cert, 'not a certificate\n');
    const before = serve.stderr().length;
    serve.child.kill('SIGHUP');
    await until(() => /refused/.test(serve.stderr().slice(before)), 'a refused reload on stderr');
    const message = serve.stderr().slice(before);
    expect(message).toContain('refused');
    expect(message).toContain(tls.cert);
    expect(serve.stdout()).not.toMatch(/reloaded/);
    expect((await servedCertificate()).fingerprint256).toBe(certA.fingerprint256);
    const client = serveClient(serve.url, trusted);
    try {
      const { reply, data } = await sign(client, STATIC_TOKEN);
      expectValidSignature(reply, data);
      expect((await sign(client, nextToken)).reply.status).toBe(401);
    } finally {
      client.close();
    }
  });

  it('serves certificate B on new connections once B is on disk and SIGHUP sent, and signs with the new rules', async () => {
    await copyFile(certB.key, tls.key);
    await copyFile(certB.cert, tls.cert);
    serve.child.kill('SIGHUP');
    await serve.waitForOutput(/reloaded /, 5_000);
    expect((await servedCertificate()).fingerprint256).toBe(certB.x509.fingerprint256);
    // A client that trusts B alone connects anew and signs, with the token the edited config names.
    const client = serveClient(serve.url, certB.cert);
    try {
      const { reply, data } = await sign(client, nextToken);
      expectValidSignature(reply, data);
      expect((await sign(client, STATIC_TOKEN)).reply.status).toBe(401);
    } finally {
      client.close();
    }
  });
});

describe("the GitHub issuer's keys out of reach", () => {
  let github: GithubOidc | undefined;
  let jwt: GithubOidc['jwt'];
  let issuer: string;
  let serve: ServeProcess;
  let client: ReturnType<typeof serveClient>;
  const options: { subject: string; port?: number; jwksStatus?: number } = { subject: SUBJECT };

  /** A token for acme/app's main branch from whichever emulator last ran on the issuer's port. */
  function idToken(): string {
    const now = Math.floor(Date.now() / 1000);
    return jwt.issue({
      iss: issuer,
      aud: AUDIENCE,
      sub: SUBJECT,
      repository: 'acme/app',
      ref: 'refs/heads/main',
      iat: now,
      nbf: now - 5,
      exp: now + 300,
    });
  }

  beforeAll(async () => {
    // The issuer is closed before the server ever reads its keys.
    const closed = await startGithubOidc(pki, options);
    ({ issuer, jwt } = closed);
    await closed.close();
    options.port = Number(new URL(issuer).port);
    serve = await startServe(
      await writeConfig('issuer', { cert: pki.https.cert, key: pki.https.key }, issuer),
      {
        NODE_EXTRA_CA_CERTS: pki.https.ca,
      },
    );
    client = serveClient(serve.url, pki.https.ca);
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await github?.close();
    if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  });

  it('answers an ID token 503 with Retry-After while the issuer is down, audits it, and a static token still signs', async () => {
    const { reply } = await sign(client, idToken());
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toMatch(/^\d+$/);
    expect(reply.body.error).toContain(`cannot read the signing keys of ${issuer}`);
    const { reply: signed, data } = await sign(client, STATIC_TOKEN);
    expectValidSignature(signed, data);
    const lines = await auditOf('issuer');
    expect(lines.map(({ result, status, caller }) => ({ result, status, caller }))).toEqual([
      { result: 'refused', status: 503, caller: null },
      { result: 'signed', status: 200, caller: { token: 'jenkins' } },
    ]);
  });

  it('answers 503 while the JWKS answers 500, and signs for ID tokens once the keys are back', async () => {
    // Back on the same port (so the same issuer URL), with new keys, the JWKS failing.
    options.jwksStatus = 500;
    github = await startGithubOidc(pki, options);
    jwt = github.jwt;
    const refused = (await sign(client, idToken())).reply;
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    expect(refused.body.error).toContain('500');
    // The emulator reads its options per request: the keys are back.
    delete options.jwksStatus;
    const { reply, data } = await sign(client, idToken());
    expectValidSignature(reply, data);
    const lines = await auditOf('issuer');
    expect(lines.slice(2).map(({ result, status }) => ({ result, status }))).toEqual([
      { result: 'refused', status: 503 },
      { result: 'signed', status: 200 },
    ]);
    expect(lines[3].caller).toMatchObject({ githubOidc: { repository: 'acme/app', ref: 'refs/heads/main' } });
  });
});
