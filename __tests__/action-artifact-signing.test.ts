import { readFile, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as pkijs from 'pkijs';
import {
  SIGNER_ROLE,
  startArtifactSigning,
  type ArtifactSigning,
  type ArtifactSigningOptions,
} from '../test/emulators/artifact-signing.js';
import { startEntraId, type EntraId } from '../test/emulators/entra-id.js';
import { startGithubOidc, type GithubOidc } from '../test/emulators/github-oidc.js';
import { extractSignature, osslVerify } from '../test/osslsigncode.js';
import { buildOutput, ensurePeFixtures, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { emulatedJobEnv, runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';
import { startTsaServer, type TsaServer } from '../test/tsa-server.js';

const TENANT = '7d1c0ffe-0000-4000-8000-00000000a11c';
const MAIN = 'repo:acme/app:ref:refs/heads/main';
const SIGNER = { clientId: '11111111-aaaa-4000-8000-000000000001', objectId: 'oid-signer' };
const RUN = {
  GITHUB_REPOSITORY: 'acme/app',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '2',
};

let pki: TestPki;
let fixtures: PeFixture[];
let github: GithubOidc;
let entra: EntraId;
let tsa: TsaServer;
const services: ArtifactSigning[] = [];

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  github = await startGithubOidc(pki, { subject: MAIN });
  entra = await startEntraId(pki, {
    tenantId: TENANT,
    github,
    apps: [{ ...SIGNER, federatedSubjects: [MAIN] }],
  });
  tsa = await startTsaServer({ configFile: pki.tsaConfig });
});
afterAll(async () => {
  await Promise.all([github.close(), entra.close(), tsa.close(), ...services.map((s) => s.close())]);
});

async function service(overrides: Partial<ArtifactSigningOptions> = {}): Promise<ArtifactSigning> {
  const started = await startArtifactSigning(pki, {
    tenantId: TENANT,
    entra,
    accounts: { acme: ['release'] },
    roleAssignments: [{ identity: SIGNER.objectId, role: SIGNER_ROLE, scope: 'acme/release' }],
    retryAfterSeconds: 0,
    throttleRetryAfterSeconds: 0,
    ...overrides,
  });
  services.push(started);
  return started;
}

async function contents(files: readonly string[]): Promise<Map<string, Buffer>> {
  return new Map(await Promise.all(files.map(async (f) => [f, await readFile(f)] as const)));
}

/** A job with id-token: write, pointed at the emulators by the standard variables. */
function jobEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return emulatedJobEnv(github, entra, pki.https.ca, { ...RUN, ...extra });
}

/** The official action's input names (its migration guide's workflow), with a trailing / on the endpoint. */
function officialInputs(svc: ArtifactSigning, folder: string, profile = 'release'): Record<string, string> {
  return {
    endpoint: `${svc.endpoint}/`,
    'trusted-signing-account-name': 'acme',
    'certificate-profile-name': profile,
    'files-folder': folder,
    'files-folder-filter': 'dll,exe',
    'file-digest': 'SHA256',
    'timestamp-rfc3161': tsa.url,
    'timestamp-digest': 'SHA256',
    'exclude-environment-credential': 'true',
    'exclude-azure-cli-credential': 'false',
    'azure-tenant-id': TENANT,
    'azure-client-id': SIGNER.clientId,
  };
}

/** The certificates a file's signature carries, and the one its SignerInfo names. */
async function embedded(file: string): Promise<{ signer: X509Certificate; certificates: X509Certificate[] }> {
  const der = await extractSignature(file);
  const signedData = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(new Uint8Array(der)).content });
  const certificates = (signedData.certificates ?? []).map(
    (c) => new X509Certificate(Buffer.from((c as pkijs.Certificate).toSchema().toBER())),
  );
  const sid = signedData.signerInfos[0].sid as pkijs.IssuerAndSerialNumber;
  const serial = Buffer.from(sid.serialNumber.valueBlock.valueHexView).toString('hex').toUpperCase();
  const signer = certificates.find((c) => c.serialNumber.replace(/^0+/, '') === serial.replace(/^0+/, ''));
  if (!signer) throw new Error(`${file}: the signature does not carry the certificate its SignerInfo names`);
  return { signer, certificates };
}

describe('the Action with Azure Artifact Signing, through GitHub OIDC, under the official action’s input names', () => {
  it('signs a folder of dlls and exes while the leaf rotates: every signature carries its own leaf and intermediate', async () => {
    const svc = await service({ rotateEvery: 3 });
    const { dir, files } = await buildOutput(fixtures, 'as-rotating');
    const tokensBefore = entra.tokenRequests;
    const run = await runAction({ ...officialInputs(svc, dir), concurrency: '4' }, jobEnv());
    expect(run.log).not.toMatch(/::error/);
    expect(run.code).toBe(0);
    expect(run.outputs['signed-count']).toBe(String(files.length));
    // The exclude-* inputs are accepted with a notice.
    expect(run.log).toMatch(
      /::warning::exclude-environment-credential, exclude-azure-cli-credential: accepted from the official action and ignored/,
    );
    // One sign-in for the run, shared by the calls in flight together.
    expect(entra.tokenRequests - tokensBefore).toBe(1);
    // One service call per file, each digest signed once, and the leaf changed during the run.
    expect(svc.stats.accepted).toBe(files.length);
    expect(svc.signedDigests.size).toBe(files.length);
    expect(svc.leavesUsed.size).toBe(Math.ceil(files.length / 3));
    expect(svc.correlationIds).toEqual(
      files.map(() => 'acme/app@0123456789abcdef0123456789abcdef01234567 run 4242 attempt 2'),
    );

    // Every distinct certificate is in the outputs and the summary; the single-valued outputs name the first.
    const listed = JSON.parse(run.outputs.certificates) as { thumbprint: string; subject: string }[];
    expect(new Set(listed.map((c) => c.thumbprint))).toEqual(svc.leavesUsed);
    expect(listed.map((c) => c.thumbprint)).toContain(run.outputs['certificate-thumbprint']);
    for (const c of listed) expect(run.summary).toContain(c.thumbprint);

    const caFile = join(dir, '..', 'as-and-tsa-roots.pem');
    await writeFile(caFile, (await readFile(svc.ca.root, 'utf8')) + (await readFile(pki.rootCa, 'utf8')));
    const leaves = new Set<string>();
    for (const file of files) {
      const verdict = await osslVerify(file, svc.ca.root, pki.rootCa);
      expect({
        file,
        ok: verdict.ok,
        stamped: /Timestamp Server Signature verification: ok/.test(verdict.output),
      }).toEqual({ file, ok: true, stamped: true });
      const { signer, certificates } = await embedded(file);
      const thumbprints = certificates.map((c) => c.fingerprint.replace(/:/g, ''));
      expect(thumbprints).toContain(svc.intermediate.thumbprint);
      expect(signer.checkIssued(svc.intermediate.x509)).toBe(true);
      leaves.add(signer.fingerprint.replace(/:/g, ''));
    }
    expect(leaves).toEqual(svc.leavesUsed);
    const verify = await runCli(['verify', '--ca-file', caFile, ...files]);
    expect({ code: verify.code, out: verify.stdout + verify.stderr }).toMatchObject({ code: 0 });
  });

  it('signs every digest once through a 429 and 503 storm and failed operations, with the 2023 shape and the leaf anywhere in the bag', async () => {
    const svc = await service({
      throttleFirst: 8,
      unavailableFirst: 5,
      failFirst: 2,
      responseShape: 'wrapped',
      certificateOrder: ['root', 'intermediate', 'leaf'],
      pollsInProgress: 2,
    });
    const { dir, files } = await buildOutput(fixtures, 'as-storm');
    const run = await runAction({ ...officialInputs(svc, dir), concurrency: '8' }, jobEnv());
    expect(run.code).toBe(0);
    expect(run.outputs['signed-count']).toBe(String(files.length));
    expect(svc.stats.throttled).toBe(8);
    expect(svc.stats.unavailable).toBe(5);
    // Operations that ended Failed were posted again; those that succeeded never were.
    expect(svc.stats.accepted).toBe(files.length + 2);
    expect(svc.signedDigests.size).toBe(files.length);
    expect([...svc.signedDigests.values()].every((n) => n === 1)).toBe(true);
    for (const file of files) expect((await osslVerify(file, svc.ca.root, pki.rootCa)).ok).toBe(true);
  });

  it('masks every token with debug logging on', async () => {
    const svc = await service();
    const { dir } = await buildOutput(fixtures, 'as-secrets');
    const githubBefore = github.issued.length;
    const entraBefore = entra.issued.length;
    const run = await runAction(
      officialInputs(svc, dir),
      jobEnv({ ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' }),
    );
    expect(run.code).toBe(0);
    expect(run.log).toMatch(/::debug::/);
    const secrets = [...github.issued.slice(githubBefore), ...entra.issued.slice(entraBefore)];
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(run.log).toContain(`::add-mask::${secret}`);
      expect(run.log.split('\n').filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'))).toEqual(
        [],
      );
    }
    expect(run.log).not.toContain(github.requestToken);
  });
});

describe('the CLI with Artifact Signing', () => {
  it('takes the same names as flags, with a ready access token, a sha384 file digest and the wrapped (2023) status shape', async () => {
    const svc = await service({ responseShape: 'wrapped', pollsInProgress: 3 });
    const { files } = await buildOutput(fixtures, 'as-cli');
    const now = Math.floor(Date.now() / 1000);
    const token = entra.jwt.issue({
      iss: `${entra.authorityHost}/${TENANT}/v2.0`,
      aud: 'https://codesigning.azure.net',
      tid: TENANT,
      oid: SIGNER.objectId,
      iat: now,
      nbf: now - 5,
      exp: now + 3600,
    });
    const run = await runCli(
      [
        'sign',
        '--artifact-signing-endpoint',
        svc.endpoint,
        '--artifact-signing-account',
        'acme',
        '--artifact-signing-certificate-profile',
        'release',
        '--artifact-signing-correlation-id',
        'release-1.2.3',
        // RS384 for a sha384 file digest: the service refuses a digest of another length than its algorithm's.
        '--file-digest',
        'sha384',
        '--azure-access-token',
        token,
        '--timestamp-rfc3161',
        tsa.url,
        ...files,
      ],
      { env: { NODE_EXTRA_CA_CERTS: pki.https.ca } },
    );
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(svc.correlationIds).toEqual(files.map(() => 'release-1.2.3'));
    expect(svc.stats.polls).toBeGreaterThanOrEqual(3 * files.length);
    for (const file of files) {
      const verdict = await osslVerify(file, svc.ca.root, pki.rootCa);
      expect({ ok: verdict.ok, sha384: /Message digest algorithm\s*: SHA384/i.test(verdict.output) }).toEqual(
        {
          ok: true,
          sha384: true,
        },
      );
    }
  });
});

describe('Artifact Signing refusals, with every file left as it was', () => {
  it('stops operations that never finish at the timeout, leaving the files unchanged', async () => {
    const svc = await service({ stallFirst: 1000 });
    const { dir, files } = await buildOutput(fixtures, 'as-stalled');
    const before = await contents(files);
    const started = Date.now();
    const run = await runAction({ ...officialInputs(svc, dir), timeout: '3' }, jobEnv());
    expect(run.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(svc.stats.accepted).toBeGreaterThan(0);
    expect(svc.signedDigests.size).toBe(0);
    expect(run.log).toMatch(/not signed, unchanged: the 3 s timeout ran out/);
    expect(await contents(files)).toEqual(before);
  });

  it('refuses timestamp-rfc3161: none before any file is touched or any call is made', async () => {
    const svc = await service();
    const { dir, files } = await buildOutput(fixtures, 'as-no-timestamp');
    const before = await contents(files);
    const run = await runAction({ ...officialInputs(svc, dir), 'timestamp-rfc3161': 'none' }, jobEnv());
    expect(run.code).toBe(1);
    expect(run.log).toMatch(
      /::error::timestamp-rfc3161: none is refused: Artifact Signing certificates are valid for 3 days/,
    );
    expect(svc.stats.signCalls).toBe(0);
    expect(await contents(files)).toEqual(before);
  });

  it('explains a 403 with an empty body as a checklist', async () => {
    const svc = await service({ roleAssignments: [] });
    const { dir, files } = await buildOutput(fixtures, 'as-403');
    const before = await contents(files);
    const run = await runAction({ ...officialInputs(svc, dir), concurrency: '1' }, jobEnv());
    expect(run.code).toBe(1);
    // The first refusal is final: the other files fail with it, without a call each.
    expect(svc.stats.forbidden).toBe(1);
    expect(run.outputs['failed-count']).toBe(String(files.length));
    for (const text of [
      'was refused (HTTP 403); check in turn',
      '"Artifact Signing Certificate Profile Signer" (formerly "Trusted Signing Certificate Profile Signer" or "Code Signing Certificate Profile Signer")',
      "the endpoint is the account's region",
      'the identity validation is completed',
      'a role assigned in the last minutes may not be in effect yet',
    ])
      expect(run.log).toContain(text);
    expect(await contents(files)).toEqual(before);
  });

  it('names the account and the certificate profile on a 404', async () => {
    const svc = await service();
    const { dir, files } = await buildOutput(fixtures, 'as-404');
    const before = await contents(files);
    const run = await runAction(officialInputs(svc, dir, 'nightly'), jobEnv());
    expect(run.code).toBe(1);
    expect(run.log).toContain(
      `certificate profile "nightly" of Artifact Signing account "acme" at ${svc.endpoint}: not found (HTTP 404)`,
    );
    expect(await contents(files)).toEqual(before);
  });
});
