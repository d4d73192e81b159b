import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEntraId, type EntraId } from '../test/emulators/entra-id.js';
import { startGithubOidc, type GithubOidc } from '../test/emulators/github-oidc.js';
import { KEY_VAULT_VERSION, startKeyVault, type KeyVault } from '../test/emulators/key-vault.js';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, type LeafName, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';

const TENANT = '7d1c0ffe-0000-4000-8000-00000000c0c0';
const MAIN = 'repo:acme/app:ref:refs/heads/main';
const SIGNER = { clientId: '33333333-cccc-4000-8000-000000000003', objectId: 'oid-curves' };

/** Each curve with the algorithm Key Vault binds to it and the digest length that algorithm takes. */
const CURVES = [
  { curve: 'P-256', leaf: 'ec', algorithm: 'ES256', bytes: 32 },
  { curve: 'P-384', leaf: 'ec384', algorithm: 'ES384', bytes: 48 },
  { curve: 'P-521', leaf: 'ec521', algorithm: 'ES512', bytes: 64 },
] as const satisfies readonly { curve: string; leaf: LeafName; algorithm: string; bytes: number }[];
const DIGESTS = ['sha256', 'sha384', 'sha512'] as const;

let pki: TestPki;
let fixtures: PeFixture[];
let github: GithubOidc;
let entra: EntraId;
let kv: KeyVault;

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  github = await startGithubOidc(pki, { subject: MAIN });
  entra = await startEntraId(pki, {
    tenantId: TENANT,
    github,
    apps: [{ ...SIGNER, federatedSubjects: [MAIN] }],
  });
  kv = await startKeyVault(pki, {
    tenantId: TENANT,
    entra,
    certificates: [
      ...CURVES.map(({ leaf }) => ({
        name: `release-${leaf}`,
        certificateFile: pki.leaves[leaf].cert,
        keyFile: pki.leaves[leaf].key,
      })),
      { name: 'release-rsa', certificateFile: pki.leaves.rsa.cert, keyFile: pki.leaves.rsa.key },
    ],
    permissions: { [SIGNER.objectId]: ['certificates/get', 'keys/get', 'keys/sign'] },
  });
});
afterAll(async () => {
  await Promise.all([github.close(), entra.close(), kv.close()]);
});

/** A 32-bit dll and a 64-bit exe whose length is not a multiple of 8, fresh in their own folder. */
async function twoFiles(label: string): Promise<string[]> {
  const dir = await scratchDir(label);
  const wanted = fixtures.filter((f) => f.name === 'pe32.dll' || f.name === 'pe64-overlay1001.exe');
  return Promise.all(wanted.map((f) => copyFixture(f, dir)));
}

/** A workflow `run:` step of a job with id-token: write, pointed at the emulators by the standard variables. */
const stepEnv = (): NodeJS.ProcessEnv => ({
  ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
  AZURE_AUTHORITY_HOST: entra.authorityHost,
  NODE_EXTRA_CA_CERTS: pki.https.ca,
});

const vaultFlags = (certificate: string) => [
  '--azure-key-vault-url',
  kv.url,
  '--azure-key-vault-certificate',
  certificate,
  '--azure-tenant-id',
  TENANT,
  '--azure-client-id',
  SIGNER.clientId,
  '--additional-certificates',
  pki.intermediateCa,
  '--timestamp-rfc3161',
  'none',
];

/** What osslsigncode and `vaultsign verify` say of each file. */
async function verdicts(files: string[]) {
  const ours = await runCli(['verify', '--ca-file', pki.rootCa, ...files]);
  const ossl = await Promise.all(files.map((f) => osslVerify(f, pki.rootCa)));
  return {
    osslsigncode: ossl.map((v) => v.ok && v.verified === 1),
    digests: ossl.map((v) => /Message digest algorithm\s*:\s*(\S+)/.exec(v.output)?.[1]),
    vaultsign: { code: ours.code, valid: ours.stdout.includes(`${files.length} valid, 0 failed`) },
  };
}

describe('Key Vault ECDSA keys through the shipped CLI in a workflow run: step (GitHub OIDC)', () => {
  const cases = CURVES.flatMap((c) => DIGESTS.map((digest) => ({ ...c, digest })));

  it.each(cases)(
    '$curve key, file-digest $digest: signed with $algorithm, verified by osslsigncode and vaultsign',
    async ({ leaf, bytes, digest }) => {
      const files = await twoFiles(`kv-${leaf}-${digest}`);
      const before = new Set(kv.signedDigests.keys());
      const issued = github.issued.length;
      const run = await runCli(
        ['sign', ...vaultFlags(`release-${leaf}`), '--file-digest', digest, ...files],
        {
          env: stepEnv(),
        },
      );
      expect({ code: run.code, stderr: run.stderr.replace(/warning: timestamping is off.*\n/, '') }).toEqual({
        code: 0,
        stderr: '',
      });
      expect(run.stdout).toContain('(github-oidc)');
      expect(run.stdout).toContain('2 signed, 0 skipped, 0 failed');
      // The CLI asked GitHub for ID tokens itself, and printed none of them.
      const tokens = github.issued.slice(issued);
      expect(tokens.length).toBeGreaterThan(0);
      expect(tokens.filter((t) => run.stdout.includes(t) || run.stderr.includes(t))).toEqual([]);
      // The vault (strict about algorithm and length, as Key Vault is) signed the probe and both files,
      // each time a digest of its curve's algorithm's length.
      const signed = [...kv.signedDigests.keys()].filter((d) => !before.has(d));
      expect(signed.map((d) => d.length / 2)).toEqual([bytes, bytes, bytes]);
      const upper = digest.toUpperCase();
      expect(await verdicts(files)).toEqual({
        osslsigncode: [true, true],
        digests: [upper, upper],
        vaultsign: { code: 0, valid: true },
      });
    },
  );

  it('reports a refused ID token request without printing the request token', async () => {
    const [file] = await twoFiles('kv-bad-request-token');
    const before = await readFile(file);
    const wrong = `${github.requestToken}-revoked`;
    const run = await runCli(['sign', ...vaultFlags('release-ec'), file], {
      env: { ...stepEnv(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: wrong },
    });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(
      /GitHub OIDC: the ID token request failed: .*HTTP 401.*; the step needs the ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN of its own job/,
    );
    expect(`${run.stdout}${run.stderr}`).not.toContain(github.requestToken);
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('refuses github-oidc in a step without the id-token permission before any file is touched', async () => {
    const [file] = await twoFiles('kv-no-id-token');
    const before = await readFile(file);
    const run = await runCli(
      ['sign', ...vaultFlags('release-ec'), '--azure-credential', 'github-oidc', file],
      {
        env: { ...stepEnv(), ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' },
      },
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'GitHub OIDC is not available to this job: it lacks the id-token permission',
    );
    expect((await readFile(file)).equals(before)).toBe(true);
  });
});

describe('Key Vault ECDSA keys through the shipped Action', () => {
  it('signs with a P-521 key under file-digest sha256 (ES512 over the zero-padded digest)', async () => {
    const files = await twoFiles('kv-action-ec521');
    const run = await runAction(
      {
        'azure-key-vault-url': kv.url,
        'azure-key-vault-certificate': 'release-ec521',
        'azure-tenant-id': TENANT,
        'azure-client-id': SIGNER.clientId,
        'files-folder': dirname(files[0]),
        'file-digest': 'sha256',
        'timestamp-rfc3161': 'none',
        'additional-certificates': pki.intermediateCa,
      },
      stepEnv(),
    );
    expect(run.log).not.toMatch(/::error/);
    expect(run.code).toBe(0);
    expect(run.outputs['signed-count']).toBe('2');
    expect(run.outputs['certificate-subject']).toContain('vaultsign test signer ec521');
    expect(await verdicts(files)).toEqual({
      osslsigncode: [true, true],
      digests: ['SHA256', 'SHA256'],
      vaultsign: { code: 0, valid: true },
    });
  });
});

describe('the Key Vault emulator is as strict as the service', () => {
  let ca: Buffer;
  beforeAll(async () => {
    ca = await readFile(pki.https.ca);
  });

  interface KeyVaultAnswer {
    value?: string;
    error?: { code: string; message: string };
  }

  /** POST …/keys/{name}/{version}/sign as the SDK sends it, with a token Entra ID would issue. */
  function sign(
    name: string,
    alg: string,
    digest: Buffer,
  ): Promise<{ status: number; body: KeyVaultAnswer }> {
    const now = Math.floor(Date.now() / 1000);
    const token = entra.jwt.issue({
      aud: 'https://vault.azure.net',
      tid: TENANT,
      oid: SIGNER.objectId,
      iat: now,
      exp: now + 600,
    });
    const payload = JSON.stringify({ alg, value: digest.toString('base64url') });
    const url = `${kv.url}/keys/${name}/${KEY_VAULT_VERSION}/sign?api-version=7.4`;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          ca,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  const kid = (name: string) => `${kv.url}/keys/${name}/${KEY_VAULT_VERSION}`;

  it.each([
    [
      'release-ec',
      'ES384',
      48,
      "uses curve 'P-256', and algorithm 'ES384' can only be used with curve 'P-384'",
    ],
    [
      'release-ec384',
      'ES256',
      32,
      "uses curve 'P-384', and algorithm 'ES256' can only be used with curve 'P-256'",
    ],
    [
      'release-ec521',
      'ES384',
      48,
      "uses curve 'P-521', and algorithm 'ES384' can only be used with curve 'P-384'",
    ],
    ['release-ec', 'RS256', 32, "uses curve 'P-256', and algorithm 'RS256' can only be used with RSA keys"],
    ['release-rsa', 'ES256', 32, "is an RSA key, and algorithm 'ES256' can only be used with curve 'P-256'"],
  ])('refuses %s with %s', async (name, alg, bytes, why) => {
    const answer = await sign(name, alg, randomBytes(bytes));
    expect(answer).toEqual({
      status: 400,
      body: {
        error: {
          code: 'BadParameter',
          message: `Key and signing algorithm are incompatible. Key ${kid(name)} ${why}.`,
        },
      },
    });
  });

  it.each([
    ['release-ec', 'ES256', 48, 32],
    ['release-ec384', 'ES384', 64, 48],
    ['release-ec521', 'ES512', 66, 64],
    ['release-rsa', 'RS384', 32, 48],
  ])('refuses %s with %s and a %i-byte digest', async (name, alg, length, required) => {
    const answer = await sign(name, alg, randomBytes(length));
    expect(answer).toEqual({
      status: 400,
      body: {
        error: {
          code: 'BadParameter',
          message: `Invalid length of 'value': ${length} bytes. ${alg} requires ${required} bytes, encoded with base64url.`,
        },
      },
    });
  });

  it.each(CURVES)(
    'signs with $algorithm on $curve: r‖s of the curve’s size, verifying over the data',
    async (c) => {
      const hash = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' }[c.algorithm];
      const data = randomBytes(100);
      const answer = await sign(`release-${c.leaf}`, c.algorithm, createHash(hash).update(data).digest());
      expect(answer.status).toBe(200);
      const signature = Buffer.from(answer.body.value ?? '', 'base64url');
      expect(signature.length).toBe({ 'P-256': 64, 'P-384': 96, 'P-521': 132 }[c.curve]);
      const key = new X509Certificate(await readFile(pki.leaves[c.leaf].cert)).publicKey;
      expect(verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
    },
  );
});
