import { execFile } from 'node:child_process';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as pkijs from 'pkijs';
import {
  ARTIFACT_SIGNING_EKU,
  CODE_SIGNING_EKU,
  IDENTITY_EKU,
} from '../test/emulators/artifact-signing-ca.js';
import {
  ARTIFACT_SIGNING_AUDIENCE,
  SIGNER_ROLE,
  startArtifactSigning,
  type ArtifactSigning,
  type ArtifactSigningOptions,
} from '../test/emulators/artifact-signing.js';
import { startEntraId, type EntraId } from '../test/emulators/entra-id.js';
import { JwtIssuer } from '../test/emulators/jwt.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';

const run = promisify(execFile);
const TENANT = '7d1c0ffe-0000-4000-8000-00000000a11c';
const SIGNER = {
  clientId: '11111111-aaaa-4000-8000-000000000001',
  objectId: 'oid-signer',
  secret: 'signer-Zq8~xY',
};
const OTHER = {
  clientId: '22222222-bbbb-4000-8000-000000000002',
  objectId: 'oid-other',
  secret: 'other-Pp3~kW',
};
const SIGN_2022 = '/codesigningaccounts/acme/certificateprofiles/release/sign?api-version=2022-06-15-preview';
const SIGN_2023 = '/codesigningaccounts/acme/certificateprofiles/release:sign?api-version=2023-06-15-preview';

let pki: TestPki;
let ca: Buffer;
let entra: EntraId;
let scratch: string;
const services: ArtifactSigning[] = [];

beforeAll(async () => {
  pki = await ensureTestPki();
  ca = await readFile(pki.https.ca);
  entra = await startEntraId(pki, { tenantId: TENANT, apps: [SIGNER, OTHER] });
  scratch = await mkdtemp(join(tmpdir(), 'artifact-signing-test-'));
});
afterAll(async () => {
  await Promise.all([entra.close(), ...services.map((s) => s.close())]);
  await rm(scratch, { recursive: true, force: true });
});

async function service(overrides: Partial<ArtifactSigningOptions> = {}): Promise<ArtifactSigning> {
  const started = await startArtifactSigning(pki, {
    tenantId: TENANT,
    entra,
    accounts: { acme: ['release', 'nightly'] },
    roleAssignments: [
      { identity: SIGNER.objectId, role: SIGNER_ROLE, scope: 'acme/release' },
      { identity: OTHER.objectId, role: 'Artifact Signing Identity Verifier', scope: 'acme' },
    ],
    retryAfterSeconds: 0,
    ...overrides,
  });
  services.push(started);
  return started;
}

/**
 * An access token as Entra ID issues for scope https://codesigning.azure.net/.default, signed with the Entra
 * emulator's key, for tests that need claims its token endpoint would not grant.
 */
function token(oid = SIGNER.objectId, claims: Record<string, unknown> = {}, issuer = entra.jwt): string {
  const now = Math.floor(Date.now() / 1000);
  return issuer.issue({
    iss: `${entra.authorityHost}/${TENANT}/v2.0`,
    aud: ARTIFACT_SIGNING_AUDIENCE,
    tid: TENANT,
    oid,
    iat: now,
    nbf: now - 5,
    exp: now + 3600,
    ...claims,
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json(): Record<string, unknown>;
}

/** A plain HTTPS request trusting the test CA (the jest process has no NODE_EXTRA_CA_CERTS). */
function call(
  url: string,
  init: { method?: string; bearer?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const payload = init.body === undefined ? undefined : Buffer.from(JSON.stringify(init.body));
  const bearer = init.bearer === undefined ? token() : init.bearer;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        method: init.method ?? (payload ? 'POST' : 'GET'),
        ca,
        headers: {
          ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
          ...(payload ? { 'Content-Type': 'application/json' } : {}),
          ...init.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body.toString()),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const sha = (hash: string) => createHash(hash).update(randomBytes(64)).digest();

/** Starts a sign operation and polls its Operation-Location until it is no longer InProgress. */
async function signDigest(
  svc: ArtifactSigning,
  digest: Buffer,
  { path = SIGN_2022, algorithm = 'RS256', maxPolls = 10 } = {},
) {
  const accepted = await call(svc.endpoint + path, {
    body: { signatureAlgorithm: algorithm, digest: digest.toString('base64') },
  });
  expect(accepted.status).toBe(202);
  const location = String(accepted.headers['operation-location']);
  const polls: Record<string, unknown>[] = [];
  for (let i = 0; i < maxPolls; i++) {
    const answer = await call(location);
    expect(answer.status).toBe(200);
    polls.push(answer.json());
    if (polls[i].status !== 'InProgress') break;
  }
  return { accepted, location, polls, last: polls[polls.length - 1] };
}

interface Bag {
  text: string;
  der: Buffer;
  certificates: X509Certificate[];
  eContent: Buffer;
  leaf: X509Certificate;
}

function openBag(signingCertificate: string): Bag {
  const text = Buffer.from(signingCertificate, 'base64').toString('ascii');
  const der = Buffer.from(text, 'base64');
  const signedData = new pkijs.SignedData({
    schema: pkijs.ContentInfo.fromBER(new Uint8Array(der)).content,
  });
  const certificates = (signedData.certificates ?? []).map(
    (c) => new X509Certificate(Buffer.from((c as pkijs.Certificate).toSchema().toBER())),
  );
  const leaf = certificates.find((c) => c.keyUsage?.includes(ARTIFACT_SIGNING_EKU));
  if (!leaf) throw new Error('no Artifact Signing leaf in the bag');
  const eContent = Buffer.from(signedData.encapContentInfo.eContent?.getValue() ?? new ArrayBuffer(0));
  return { text, der, certificates, eContent, leaf };
}

/** `openssl pkeyutl -verify` of a signature over a digest with the leaf's public key. */
async function opensslVerifies(
  leaf: X509Certificate,
  digest: Buffer,
  signature: Buffer,
  hash: string,
  pss = false,
) {
  const dir = await mkdtemp(join(scratch, 'verify-'));
  await writeFile(join(dir, 'pub.pem'), leaf.publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(join(dir, 'digest'), digest);
  await writeFile(join(dir, 'sig'), signature);
  const pssArgs = pss
    ? ['-pkeyopt', 'rsa_padding_mode:pss', '-pkeyopt', `rsa_pss_saltlen:${digest.length}`]
    : [];
  const args = ['pkeyutl', '-verify', '-pubin', '-inkey', 'pub.pem', '-in', 'digest', '-sigfile', 'sig'];
  return run('openssl', [...args, '-pkeyopt', `digest:${hash}`, ...pssArgs], { cwd: dir }).then(
    (r) => r.stdout.includes('Signature Verified Successfully'),
    () => false,
  );
}

describe('Artifact Signing emulator: the long-running sign operation', () => {
  let svc: ArtifactSigning;
  beforeAll(async () => {
    svc = await service({ pollsInProgress: 2 });
  });

  it('answers 202 with Operation-Location and Retry-After, InProgress twice, then a flat result (2022, /sign)', async () => {
    const digest = sha('sha256');
    const { accepted, location, polls, last } = await signDigest(svc, digest);
    expect(accepted.headers['retry-after']).toBe('0');
    expect(accepted.json()).toMatchObject({
      status: 'InProgress',
      signature: null,
      signingCertificate: null,
    });
    expect(location).toMatch(
      new RegExp(
        `^${svc.endpoint}/codesigningaccounts/acme/certificateprofiles/release/sign/[0-9a-f-]{36}\\?api-version=2022-06-15-preview$`,
      ),
    );
    expect(polls.map((p) => p.status)).toEqual(['InProgress', 'InProgress', 'Succeeded']);
    expect(Object.keys(last).sort()).toEqual(['operationId', 'signature', 'signingCertificate', 'status']);
    const bag = openBag(String(last.signingCertificate));
    const signature = Buffer.from(String(last.signature), 'base64');
    expect(signature).toHaveLength(384);
    expect(await opensslVerifies(bag.leaf, digest, signature, 'sha256')).toBe(true);
    // The same check fails over another digest: the verification can fail.
    expect(await opensslVerifies(bag.leaf, sha('sha256'), signature, 'sha256')).toBe(false);
  });

  it('answers the :sign form with 2023-06-15-preview, wrapped in result', async () => {
    const digest = sha('sha256');
    const { location, last } = await signDigest(svc, digest, { path: SIGN_2023 });
    expect(location).toContain('/certificateprofiles/release/sign/');
    expect(location).toMatch(/api-version=2023-06-15-preview$/);
    expect(last).toMatchObject({ status: 'Succeeded', errorResponse: null, result: { status: 'Succeeded' } });
    const result = last.result as Record<string, string>;
    expect(result.operationId).toBe(last.id);
    const bag = openBag(result.signingCertificate);
    expect(await opensslVerifies(bag.leaf, digest, Buffer.from(result.signature, 'base64'), 'sha256')).toBe(
      true,
    );
  });

  it.each([
    ['RS384', 'sha384', false],
    ['RS512', 'sha512', false],
    ['PS256', 'sha256', true],
    ['PS512', 'sha512', true],
  ] as [string, string, boolean][])('signs %s over the digest it is given', async (algorithm, hash, pss) => {
    const digest = sha(hash);
    const { last } = await signDigest(svc, digest, { algorithm });
    const bag = openBag(String(last.signingCertificate));
    const signature = Buffer.from(String(last.signature), 'base64');
    expect(await opensslVerifies(bag.leaf, digest, signature, hash, pss)).toBe(true);
  });

  it('returns the certificates doubly base64-encoded, leaf as eContent, leaf neither first nor last', async () => {
    const { last } = await signDigest(svc, sha('sha256'));
    const bag = openBag(String(last.signingCertificate));
    expect(String(last.signingCertificate).startsWith('TUlJ')).toBe(true); // base64 of "MII"
    expect(
      bag.text
        .split('\r\n')
        .slice(0, -2)
        .every((line) => line.length === 76),
    ).toBe(true);
    expect(bag.text.endsWith('\r\n')).toBe(true);
    expect(bag.eContent.equals(bag.leaf.raw)).toBe(true);
    expect(bag.certificates.map((c) => c.subject)).toEqual([
      svc.intermediate.x509.subject,
      bag.leaf.subject,
      svc.root.x509.subject,
    ]);
    // openssl reads the same bag in the same order.
    await writeFile(join(scratch, 'bag.p7b'), bag.der);
    const { stdout } = await run('openssl', [
      'pkcs7',
      '-inform',
      'DER',
      '-in',
      join(scratch, 'bag.p7b'),
      '-print_certs',
      '-noout',
    ]);
    expect(stdout.match(/^subject=.*$/gm)?.map((s) => s.includes('Publisher'))).toEqual([false, true, false]);
  });

  it('issues RSA-3072 leaves for 3 days with the Artifact Signing EKUs, chained to its root', async () => {
    const { last } = await signDigest(svc, sha('sha256'));
    const { leaf } = openBag(String(last.signingCertificate));
    expect(leaf.publicKey.asymmetricKeyDetails?.modulusLength).toBe(3072);
    expect(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)).toBe(3 * 24 * 3600 * 1000);
    expect(leaf.keyUsage).toEqual([ARTIFACT_SIGNING_EKU, CODE_SIGNING_EKU, IDENTITY_EKU]);
    await writeFile(join(scratch, 'leaf.pem'), leaf.toString());
    const { stdout } = await run('openssl', [
      'verify',
      '-CAfile',
      svc.ca.root,
      '-untrusted',
      svc.ca.intermediate,
      join(scratch, 'leaf.pem'),
    ]);
    expect(stdout).toContain(': OK');
  });

  it('serves the chain as binary PKCS#7 at /sign/certchain and the root at /sign/rootcert', async () => {
    const base = `${svc.endpoint}/codesigningaccounts/acme/certificateprofiles/release/sign`;
    const chain = await call(`${base}/certchain?api-version=2022-06-15-preview`);
    expect(chain.status).toBe(200);
    expect(chain.headers['content-type']).toBe('application/pkcs7-mime');
    const bag = openBag(Buffer.from(chain.body.toString('base64')).toString('base64'));
    expect(bag.certificates).toHaveLength(3);
    const rootAnswer = await call(`${base}/rootcert?api-version=2023-06-15-preview`);
    expect(rootAnswer.headers['content-disposition']).toBe('attachment; filename=Root.cer');
    expect(rootAnswer.body.equals(svc.root.der)).toBe(true);
  });

  it('counts each digest it signed once, and every poll', () => {
    expect(svc.signedDigests.size).toBe(svc.stats.accepted);
    expect([...svc.signedDigests.values()].every((n) => n === 1)).toBe(true);
    expect(svc.stats.polls).toBeGreaterThanOrEqual(3 * svc.stats.accepted);
    expect(svc.leavesUsed.size).toBe(1);
  });
});

describe('Artifact Signing emulator: certificates and shapes per instance', () => {
  it('rotates to a new leaf (key, serial, thumbprint) after every N signatures', async () => {
    const svc = await service({ rotateEvery: 2, pollsInProgress: 0 });
    const leaves: X509Certificate[] = [];
    for (let i = 0; i < 5; i++) {
      const digest = sha('sha256');
      const { last } = await signDigest(svc, digest);
      const { leaf } = openBag(String(last.signingCertificate));
      expect(
        await opensslVerifies(leaf, digest, Buffer.from(String(last.signature), 'base64'), 'sha256'),
      ).toBe(true);
      leaves.push(leaf);
    }
    const distinct = (values: string[]) => new Set(values).size;
    const [first, , second, , third] = leaves.map((l) => l.fingerprint256);
    expect(leaves.map((l) => l.fingerprint256)).toEqual([first, first, second, second, third]);
    expect(distinct(leaves.map((l) => l.fingerprint256))).toBe(3);
    expect(distinct(leaves.map((l) => l.serialNumber))).toBe(3);
    expect(
      distinct(leaves.map((l) => l.publicKey.export({ format: 'der', type: 'spki' }).toString('hex'))),
    ).toBe(3);
    expect(svc.leavesUsed.size).toBe(3);
  });

  it('wraps results in result under 2022 too when the instance says so, in the order it is given', async () => {
    const svc = await service({
      responseShape: 'wrapped',
      certificateOrder: ['root', 'intermediate', 'leaf'],
    });
    const { accepted, last } = await signDigest(svc, sha('sha256'));
    expect(accepted.json()).toMatchObject({
      status: 'InProgress',
      result: { status: 'InProgress', signature: null },
    });
    const bag = openBag((last.result as Record<string, string>).signingCertificate);
    expect(bag.certificates.map((c) => c.raw.equals(bag.leaf.raw))).toEqual([false, false, true]);
  });
});

describe('Artifact Signing emulator: who may sign, and where', () => {
  let svc: ArtifactSigning;
  const wrongIssuer = new JwtIssuer();
  beforeAll(async () => {
    svc = await service();
  });
  const body = { signatureAlgorithm: 'RS256', digest: Buffer.alloc(32, 7).toString('base64') };

  it.each([
    ['no token', () => null, false],
    ['a token signed by another key', () => token(SIGNER.objectId, {}, wrongIssuer), true],
    ['an expired token', () => token(SIGNER.objectId, { exp: Math.floor(Date.now() / 1000) - 60 }), true],
    ['a Key Vault token', () => token(SIGNER.objectId, { aud: 'https://vault.azure.net' }), true],
    ['a token of another tenant', () => token(SIGNER.objectId, { tid: 'other-tenant' }), true],
    [
      'a token not valid yet',
      () => token(SIGNER.objectId, { nbf: Math.floor(Date.now() / 1000) + 600 }),
      true,
    ],
  ])('refuses %s with 401 and a challenge', async (_name, bearer, invalid) => {
    const answer = await call(svc.endpoint + SIGN_2022, { bearer: bearer(), body });
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toBe(
      `Bearer authorization="${entra.authorityHost}/${TENANT}", resource="https://codesigning.azure.net"` +
        (invalid ? ', error="invalid_token"' : ''),
    );
  });

  it('refuses a real Entra ID token for Key Vault', async () => {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: SIGNER.clientId,
      client_secret: SIGNER.secret,
      scope: 'https://vault.azure.net/.default',
    });
    const issued = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        `${entra.authorityHost}/${TENANT}/oauth2/v2.0/token`,
        { method: 'POST', ca },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()).access_token));
        },
      );
      req.on('error', reject);
      req.setHeader('Content-Type', 'application/x-www-form-urlencoded');
      req.end(form.toString());
    });
    expect((await call(svc.endpoint + SIGN_2022, { bearer: issued, body })).status).toBe(401);
  });

  it.each([
    ['an identity with another role', () => token(OTHER.objectId), (svc_) => svc_.endpoint + SIGN_2022],
    [
      'a signer of another profile',
      () => token(),
      (svc_) => svc_.endpoint + SIGN_2022.replace('release', 'nightly'),
    ],
    ['the right signer at another region', () => token(), (svc_) => svc_.endpointFor('wus2') + SIGN_2022],
  ] as [string, () => string, (s: ArtifactSigning) => string][])(
    'answers %s 403 with an empty body',
    async (_name, bearer, url) => {
      const before = svc.stats.forbidden;
      const answer = await call(url(svc), { bearer: bearer(), body });
      expect(answer.status).toBe(403);
      expect(answer.body).toHaveLength(0);
      expect(svc.stats.forbidden).toBe(before + 1);
    },
  );

  it("lets an account-wide assignment under the role's former name sign every profile", async () => {
    const other = await service({
      roleAssignments: [
        { identity: OTHER.objectId, role: 'Trusted Signing Certificate Profile Signer', scope: 'acme' },
      ],
      pollsInProgress: 0,
    });
    const answer = await call(other.endpoint + SIGN_2022.replace('release', 'nightly'), {
      bearer: token(OTHER.objectId),
      body,
    });
    expect(answer.status).toBe(202);
  });
});

describe('Artifact Signing emulator: bad requests', () => {
  let svc: ArtifactSigning;
  beforeAll(async () => {
    svc = await service();
  });
  const rs256 = (digest: Buffer) => ({ signatureAlgorithm: 'RS256', digest: digest.toString('base64') });

  it('answers 404 with an error naming the unknown account or profile', async () => {
    const account = await call(svc.endpoint + SIGN_2022.replace('acme', 'acme2'), {
      body: rs256(sha('sha256')),
    });
    expect(account.status).toBe(404);
    expect(account.json()).toEqual({
      errorDetail: { code: 'NotFound', message: "Code signing account 'acme2' was not found.", target: null },
    });
    const profile = await call(svc.endpoint + SIGN_2022.replace('release', 'beta'), {
      body: rs256(sha('sha256')),
    });
    expect(profile.status).toBe(404);
    expect(JSON.stringify(profile.json())).toContain(
      "Certificate profile 'beta' was not found in code signing account 'acme'",
    );
    const operation = await call(
      `${svc.endpoint}/codesigningaccounts/acme/certificateprofiles/release/sign/nope?api-version=2022-06-15-preview`,
    );
    expect(operation.status).toBe(404);
  });

  it('answers 400 to a digest whose length does not fit the algorithm', async () => {
    const answer = await call(svc.endpoint + SIGN_2022, { body: rs256(sha('sha384')) });
    expect(answer.status).toBe(400);
    expect(answer.json()).toEqual({
      errorDetail: {
        code: 'BadRequest',
        message:
          'Digest length 48 is invalid for signature algorithm RS256: expected a base64 32-byte digest.',
        target: 'digest',
      },
    });
    const ecdsa = await call(svc.endpoint + SIGN_2022, {
      body: { signatureAlgorithm: 'ES256', digest: sha('sha256').toString('base64') },
    });
    expect(ecdsa.status).toBe(400);
    expect(svc.stats.accepted).toBe(0);
  });

  it.each([
    ['an unknown api-version', SIGN_2022.replace('2022-06-15-preview', '2024-01-01')],
    ['no api-version', SIGN_2022.replace(/\?.*/, '')],
    [
      '/sign with 2023-06-15-preview (not seen in production)',
      SIGN_2022.replace('2022-06-15-preview', '2023-06-15-preview'),
    ],
  ])('answers 400 UnsupportedApiVersion to %s', async (_name, path) => {
    const answer = await call(svc.endpoint + path, { body: rs256(sha('sha256')) });
    expect(answer.status).toBe(400);
    expect((answer.json().error as { code: string }).code).toBe('UnsupportedApiVersion');
  });

  it('answers 404 to a path with a doubled slash (an endpoint given with a trailing /)', async () => {
    const answer = await call(`${svc.endpoint}/${SIGN_2022}`, { body: rs256(sha('sha256')) });
    expect(answer.status).toBe(404);
  });
});

describe('Artifact Signing emulator: faults', () => {
  it('throttles the first N sign calls with 429 + Retry-After, then answers 503, then signs', async () => {
    const svc = await service({
      throttleFirst: 2,
      unavailableFirst: 1,
      throttleRetryAfterSeconds: 3,
      pollsInProgress: 0,
    });
    const body = { signatureAlgorithm: 'RS256', digest: sha('sha256').toString('base64') };
    const answers = [];
    for (let i = 0; i < 4; i++) {
      answers.push(
        await call(svc.endpoint + SIGN_2022, { body, headers: { 'x-correlation-id': `try-${i}` } }),
      );
    }
    expect(answers.map((a) => a.status)).toEqual([429, 429, 503, 202]);
    expect(answers[0].headers['retry-after']).toBe('3');
    expect(svc.stats).toMatchObject({ signCalls: 4, throttled: 2, unavailable: 1, accepted: 1 });
    expect(svc.correlationIds).toEqual(['try-0', 'try-1', 'try-2', 'try-3']);
    expect(svc.signedDigests.size).toBe(1);
  });

  it('keeps the first N operations InProgress forever and fails the next M', async () => {
    const svc = await service({ stallFirst: 1, failFirst: 1, pollsInProgress: 0 });
    const stalled = await signDigest(svc, sha('sha256'), { maxPolls: 5 });
    expect(stalled.polls.map((p) => p.status)).toEqual(Array(5).fill('InProgress'));
    const failed = await signDigest(svc, sha('sha256'), { path: SIGN_2023 });
    expect(failed.last).toMatchObject({
      status: 'Failed',
      result: { signature: null },
      errorResponse: { errorDetail: { code: 'SigningFailed' } },
    });
    const fine = await signDigest(svc, sha('sha256'));
    expect(fine.last.status).toBe('Succeeded');
    // Neither the stalled nor the failed operation signed anything.
    expect(svc.signedDigests.size).toBe(1);
  });

  it('waits inProgressMs before an operation succeeds, and latencyMs before every answer', async () => {
    const svc = await service({ pollsInProgress: 0, inProgressMs: 300, latencyMs: 100 });
    const started = Date.now();
    const accepted = await call(svc.endpoint + SIGN_2022, {
      body: { signatureAlgorithm: 'RS256', digest: sha('sha256').toString('base64') },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    const location = String(accepted.headers['operation-location']);
    expect((await call(location)).json().status).toBe('InProgress');
    await new Promise((r) => setTimeout(r, 300));
    expect((await call(location)).json().status).toBe('Succeeded');
  });
});
