import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEntraId, type EntraId, type EntraOptions } from '../test/emulators/entra-id.js';
import { startGithubOidc, type GithubOidc } from '../test/emulators/github-oidc.js';
import {
  KEY_VAULT_VERSION,
  startKeyVault,
  type KeyVault,
  type KeyVaultOptions,
} from '../test/emulators/key-vault.js';
import { osslVerify } from '../test/osslsigncode.js';
import { buildOutput, ensurePeFixtures, type PeFixture } from '../test/pe-fixtures.js';
import { AIA_PORT, ensureTestPki, PFX_PASSWORD, type TestPki } from '../test/pki.js';
import { emulatedJobEnv, runAction } from '../test/run-action.js';
import { startTsaServer, type TsaServer } from '../test/tsa-server.js';

const TENANT = '7d1c0ffe-0000-4000-8000-00000000a11c';
const MAIN = 'repo:acme/app:ref:refs/heads/main';
const SIGNER = {
  clientId: '11111111-aaaa-4000-8000-000000000001',
  objectId: 'oid-signer',
  secret: 'signer-secret-Zq8~xY',
};
const READER = {
  clientId: '22222222-bbbb-4000-8000-000000000002',
  objectId: 'oid-reader',
  secret: 'reader-secret-Pp3~kW',
};

/** Mutable: a test may run as another branch, or shorten token lifetimes. */
const job = { subject: MAIN };
let entraOptions: EntraOptions;
let pki: TestPki;
let fixtures: PeFixture[];
let github: GithubOidc;
let entra: EntraId;
let tsa: TsaServer;
const vaults: KeyVault[] = [];

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  github = await startGithubOidc(pki, job);
  entraOptions = {
    tenantId: TENANT,
    github,
    apps: [
      { ...SIGNER, federatedSubjects: [MAIN] },
      { ...READER, federatedSubjects: [MAIN] },
    ],
  };
  entra = await startEntraId(pki, entraOptions);
  tsa = await startTsaServer({ configFile: pki.tsaConfig });
});
afterAll(async () => {
  await Promise.all([github.close(), entra.close(), tsa.close(), ...vaults.map((v) => v.close())]);
});

async function vault(overrides: Partial<KeyVaultOptions> = {}): Promise<KeyVault> {
  const started = await startKeyVault(pki, {
    tenantId: TENANT,
    entra,
    certificates: [
      { name: 'release-rsa', certificateFile: pki.leaves.rsa.cert, keyFile: pki.leaves.rsa.key },
      { name: 'release-ec', certificateFile: pki.leaves.ec.cert, keyFile: pki.leaves.ec.key },
      { name: 'mismatched', certificateFile: pki.leaves.rsa.cert, keyFile: pki.leaves.rsa4096.key },
      { name: 'not-for-code', certificateFile: pki.tsaCert, keyFile: join(pki.dir, 'tsa.key') },
    ],
    permissions: {
      [SIGNER.objectId]: ['certificates/get', 'keys/get', 'keys/sign'],
      [READER.objectId]: ['certificates/get', 'keys/get'],
    },
    ...overrides,
  });
  vaults.push(started);
  return started;
}

/** A job with id-token: write, pointed at the emulators by the standard variables. */
function jobEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return emulatedJobEnv(github, entra, pki.https.ca, extra);
}

function vaultInputs(kv: KeyVault, folder: string, certificate = 'release-rsa'): Record<string, string> {
  return {
    'azure-key-vault-url': kv.url,
    'azure-key-vault-certificate': certificate,
    'azure-tenant-id': TENANT,
    'azure-client-id': SIGNER.clientId,
    'files-folder': folder,
    'files-folder-filter': 'dll,exe',
    'timestamp-rfc3161': tsa.url,
    'additional-certificates': pki.intermediateCa,
  };
}

describe('the Action with Azure Key Vault through GitHub OIDC', () => {
  it.each(['release-rsa', 'release-ec'])('signs a folder of dlls and exes with %s', async (certificate) => {
    const kv = await vault();
    const { dir, files } = await buildOutput(fixtures, 'kv-ok');
    const run = await runAction(vaultInputs(kv, dir, certificate), jobEnv());
    expect(run.log).not.toMatch(/::error/);
    expect(run.code).toBe(0);
    expect(run.outputs['signed-count']).toBe(String(files.length));
    expect(run.outputs['failed-count']).toBe('0');
    expect(run.outputs['skipped-count']).toBe('0');
    expect(JSON.parse(run.outputs['signed-files']).length).toBe(files.length);
    expect(run.outputs['certificate-subject']).toContain(
      `vaultsign test signer ${certificate === 'release-rsa' ? 'rsa' : 'ec'}`,
    );
    expect(run.outputs['certificate-thumbprint']).toMatch(/^[0-9A-F]{40}$/);
    expect(run.summary).toContain('<table>');
    expect(run.summary).toContain('<th>Format</th>');
    expect(run.summary).toMatch(/<td>PE<\/td>/);
    expect(run.summary).toContain(`${files.length} signed, 0 skipped, 0 failed`);
    for (const file of files) {
      const verdict = await osslVerify(file, pki.rootCa);
      expect({
        file,
        ok: verdict.ok,
        stamped: /Timestamp Server Signature verification: ok/.test(verdict.output),
      }).toEqual({ file, ok: true, stamped: true });
    }
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('passes the tokens of a run longer than their lifetime', async () => {
    entraOptions.tokenLifetimeSeconds = 2;
    try {
      const kv = await vault({ latencyMs: 600 });
      const { dir, files } = await buildOutput(fixtures, 'kv-short-tokens');
      const before = entra.tokenRequests;
      const run = await runAction(
        { ...vaultInputs(kv, dir), concurrency: '1', 'timestamp-rfc3161': 'none' },
        jobEnv(),
      );
      expect(run.code).toBe(0);
      expect(run.outputs['signed-count']).toBe(String(files.length));
      expect(entra.tokenRequests - before).toBeGreaterThan(1);
    } finally {
      entraOptions.tokenLifetimeSeconds = undefined;
    }
  });

  it('signs every file exactly once through 429, 503 and dropped-connection storms', async () => {
    const kv = await vault({ rateLimit: { calls: 4, windowMs: 1000 }, failFirst: 3, dropFirst: 2 });
    const { dir, files } = await buildOutput(fixtures, 'kv-storm');
    const run = await runAction(
      { ...vaultInputs(kv, dir), concurrency: '8', 'timestamp-rfc3161': 'none' },
      jobEnv(),
    );
    expect(run.code).toBe(0);
    expect(run.outputs['signed-count']).toBe(String(files.length));
    expect(kv.stats.throttled).toBeGreaterThan(0);
    expect(kv.stats.failed).toBe(3);
    expect(kv.stats.dropped).toBe(2);
    // One probe signature at start-up, then one per file: no digest was signed twice.
    expect(kv.signedDigests.size).toBe(files.length + 1);
    expect([...kv.signedDigests.values()].every((n) => n === 1)).toBe(true);
    for (const file of files) expect((await osslVerify(file, pki.rootCa)).verified).toBe(1);
  });

  it('checks every signature the vault returns: a faulty answer fails its file and leaves it unchanged', async () => {
    // The start-up probe gets a good signature; every file after it gets one with a flipped bit.
    const kv = await vault({ corruptAfter: 1 });
    const { dir, files } = await buildOutput(fixtures, 'kv-corrupt');
    const before = new Map(await Promise.all(files.map(async (f) => [f, await readFile(f)] as const)));
    const run = await runAction({ ...vaultInputs(kv, dir), 'timestamp-rfc3161': 'none' }, jobEnv());
    expect(run.code).toBe(1);
    expect(run.outputs['failed-count']).toBe(String(files.length));
    expect(run.log).toContain(
      'the signer returned a signature that does not verify with the certificate it came with',
    );
    for (const file of files) expect((await readFile(file)).equals(before.get(file)!)).toBe(true);
  });

  it('stops cleanly at the timeout and reports what was and was not signed', async () => {
    const kv = await vault({ latencyMs: 900 });
    const { dir, files } = await buildOutput(fixtures, 'kv-timeout');
    const before = new Map(await Promise.all(files.map(async (f) => [f, await readFile(f)] as const)));
    const run = await runAction(
      { ...vaultInputs(kv, dir), concurrency: '1', timeout: '4', 'timestamp-rfc3161': 'none' },
      jobEnv(),
    );
    expect(run.code).toBe(1);
    const signed = Number(run.outputs['signed-count']);
    const failed = Number(run.outputs['failed-count']);
    expect(signed).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    expect(signed + failed).toBe(files.length);
    expect(run.log).toMatch(/not signed, unchanged: the 4 s timeout ran out/);
    const signedFiles = (JSON.parse(run.outputs['signed-files']) as string[]).map((f) =>
      join(dir, basename(f)),
    );
    for (const file of files) {
      if (signedFiles.includes(file)) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
      else expect((await readFile(file)).equals(before.get(file)!)).toBe(true);
    }
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});

describe('the Action refuses, before touching any file', () => {
  async function refused(
    inputs: Record<string, string>,
    env: NodeJS.ProcessEnv,
    files: string[],
    problem: RegExp,
  ) {
    const before = await Promise.all(files.map((f) => readFile(f)));
    const run = await runAction(inputs, env);
    expect(run.code).toBe(1);
    expect(run.log).toMatch(problem);
    const after = await Promise.all(files.map((f) => readFile(f)));
    expect(after.every((bytes, i) => bytes.equals(before[i]))).toBe(true);
    return run;
  }

  it('a branch that no federated credential names', async () => {
    const kv = await vault();
    const { dir, files } = await buildOutput(fixtures, 'kv-branch');
    job.subject = 'repo:acme/app:ref:refs/heads/feature/try-signing';
    try {
      await refused(
        vaultInputs(kv, dir),
        jobEnv(),
        files,
        /Azure sign-in failed: .*AADSTS700213.*repo:acme\/app:ref:refs\/heads\/feature\/try-signing/,
      );
    } finally {
      job.subject = MAIN;
    }
    expect(kv.stats.signCalls).toBe(0);
  });

  it('a job without the id-token permission, showing the block to add', async () => {
    const kv = await vault();
    const { dir, files } = await buildOutput(fixtures, 'kv-no-oidc');
    const run = await refused(
      vaultInputs(kv, dir),
      jobEnv({ ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' }),
      files,
      /id-token permission/,
    );
    expect(run.log).toMatch(/permissions:%0A\s+id-token: write%0A\s+contents: read/);
  });

  it('an identity without the sign permission', async () => {
    const kv = await vault();
    const { dir, files } = await buildOutput(fixtures, 'kv-no-sign');
    const inputs = {
      ...vaultInputs(kv, dir),
      'azure-client-id': READER.clientId,
      'azure-client-secret': READER.secret,
    };
    await refused(
      inputs,
      jobEnv(),
      files,
      /refused \(HTTP 403\): the identity lacks the permission; grant it the role "Key Vault Crypto User"/,
    );
  });

  it('a vault key that does not match its certificate', async () => {
    const kv = await vault();
    const { dir, files } = await buildOutput(fixtures, 'kv-mismatch');
    await refused(
      vaultInputs(kv, dir, 'mismatched'),
      jobEnv(),
      files,
      /the key of mismatched .* does not match its certificate/,
    );
  });

  it('a certificate that does not allow code signing', async () => {
    const kv = await vault();
    const { dir, files } = await buildOutput(fixtures, 'kv-eku');
    await refused(vaultInputs(kv, dir, 'not-for-code'), jobEnv(), files, /does not allow code signing/);
  });

  it('a folder where nothing matches, saying what was searched', async () => {
    const kv = await vault();
    const { dir } = await buildOutput(fixtures, 'kv-nothing');
    const run = await runAction({ ...vaultInputs(kv, dir), 'files-folder-filter': 'msi' }, jobEnv());
    expect(run.code).toBe(1);
    expect(run.log).toMatch(
      /no files to sign: nothing matched in files-folder ".*kv-nothing.*" \(filter msi, recurse false\)/,
    );
  });
});

describe('secrets in the log', () => {
  /** Every occurrence of `secret` must come after an add-mask command for it, and only inside that command. */
  function expectMasked(log: string, secret: string) {
    const mask = log.indexOf(`::add-mask::${secret}`);
    expect(mask).toBeGreaterThanOrEqual(0);
    const elsewhere = log
      .split('\n')
      .filter((line) => line.includes(secret) && !line.startsWith('::add-mask::'));
    expect(elsewhere).toEqual([]);
  }

  it.each([
    ['client secret', { 'azure-client-secret': SIGNER.secret }],
    ['GitHub OIDC', {}],
  ])('masks every token and secret with debug logging on (%s)', async (_how, extra) => {
    const kv = await vault();
    const { dir } = await buildOutput(fixtures, 'kv-secrets');
    const githubBefore = github.issued.length;
    const entraBefore = entra.issued.length;
    const run = await runAction(
      { ...vaultInputs(kv, dir), ...extra, 'timestamp-rfc3161': 'none' },
      jobEnv({ ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' }),
    );
    expect(run.code).toBe(0);
    expect(run.log).toMatch(/::debug::/);
    const secrets = [
      ...github.issued.slice(githubBefore),
      ...entra.issued.slice(entraBefore),
      ...Object.values(extra),
    ];
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) expectMasked(run.log, secret);
    expect(run.log).not.toContain(github.requestToken);
  });
});

describe('more ways in', () => {
  it('takes a ready access token, completes the chain through the certificate AIA, and supports dry-run', async () => {
    const kv = await vault({
      certificates: [{ name: 'release-aia', certificateFile: pki.aia.cert, keyFile: pki.aia.key }],
    });
    const issuer = await readFile(pki.aia.issuerDer);
    const aia = createServer((_req, res) =>
      res.writeHead(200, { 'Content-Type': 'application/pkix-cert' }).end(issuer),
    );
    await new Promise<void>((r) => aia.listen(AIA_PORT, '127.0.0.1', r));
    try {
      const { files } = await buildOutput(fixtures, 'kv-token');
      const token = entra.jwt.issue({
        aud: 'https://vault.azure.net',
        tid: TENANT,
        oid: SIGNER.objectId,
        exp: Math.floor(Date.now() / 1000) + 600,
      });
      const inputs = {
        'azure-key-vault-url': kv.url,
        'azure-key-vault-certificate': 'release-aia',
        'azure-access-token': token,
        files: files.slice(0, 3).join('\n'),
        'timestamp-rfc3161': 'none',
      };
      const dry = await runAction({ ...inputs, 'dry-run': 'true' }, jobEnv());
      expect(dry.code).toBe(0);
      expect(dry.log).toContain('dry run: 3 would be signed, 0 skipped, 0 failed');
      // A dry run checks the key as a real run does (one probe signature), and signs no file.
      expect(kv.stats.signCalls).toBe(1);
      for (const file of files.slice(0, 3)) expect((await osslVerify(file, pki.rootCa)).ok).toBe(false);

      const run = await runAction(inputs, jobEnv());
      expect(run.code).toBe(0);
      expect(run.outputs['signed-count']).toBe('3');
      expect(run.log).toMatch(/::add-mask::eyJ/);
      expect(run.log.split('\n').filter((l) => l.includes(token) && !l.startsWith('::add-mask::'))).toEqual(
        [],
      );
      expect(run.log).not.toMatch(/incomplete certificate chain/);
      // The leaf alone does not reach the root: the intermediate came from the AIA URL.
      for (const file of files.slice(0, 3)) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
    } finally {
      aia.close();
    }
  });

  it('warns when the chain cannot be completed', async () => {
    const kv = await vault();
    const { dir } = await buildOutput(fixtures, 'kv-no-chain');
    const inputs = { ...vaultInputs(kv, dir), 'timestamp-rfc3161': 'none' };
    delete (inputs as Record<string, string>)['additional-certificates'];
    const run = await runAction(inputs, jobEnv());
    expect(run.code).toBe(0);
    expect(run.log).toMatch(
      /::warning::the signatures carry an incomplete certificate chain \(.*names no issuer URL \(AIA\)\); give additional-certificates/,
    );
  });

  it('signs with a local PFX, masking its password', async () => {
    const { dir, files } = await buildOutput(fixtures, 'action-pfx');
    const run = await runAction(
      {
        'pfx-file': pki.leaves.ec.pfx,
        'pfx-password': PFX_PASSWORD,
        files: `${dir}/*.dll, ${dir}/*.exe`,
        exclude: `${dir}/pe32*`,
        'timestamp-rfc3161': tsa.url,
      },
      {},
    );
    expect(run.code).toBe(0);
    expect(run.log).toContain(`::add-mask::${PFX_PASSWORD}`);
    const signed = JSON.parse(run.outputs['signed-files']) as string[];
    expect(signed.length).toBe(files.filter((f) => !basename(f).startsWith('pe32')).length);
    expect(signed.every((f) => !basename(f).startsWith('pe32'))).toBe(true);
  });

  it('pins a certificate version, and names a missing one', async () => {
    const kv = await vault();
    const { dir } = await buildOutput(fixtures, 'kv-version');
    const inputs = { ...vaultInputs(kv, dir), 'timestamp-rfc3161': 'none' };
    const pinned = await runAction(
      { ...inputs, 'azure-key-vault-certificate-version': KEY_VAULT_VERSION },
      jobEnv(),
    );
    expect(pinned.code).toBe(0);
    const missing = await runAction(
      { ...inputs, 'azure-key-vault-certificate-version': 'ffffffffffffffffffffffffffffffff' },
      jobEnv(),
    );
    expect(missing.code).toBe(1);
    expect(missing.log).toMatch(
      /reading certificate release-rsa in .*: not found \(HTTP 404\); check the vault URL, name and version/,
    );
  });

  it('takes additional-certificates as PEM text', async () => {
    const kv = await vault();
    const { dir, files } = await buildOutput(fixtures, 'kv-pem-text');
    const pem = await readFile(pki.intermediateCa, 'utf8');
    const run = await runAction(
      { ...vaultInputs(kv, dir), 'additional-certificates': pem, 'timestamp-rfc3161': 'none' },
      jobEnv(),
    );
    expect(run.code).toBe(0);
    expect((await osslVerify(files[0], pki.rootCa)).ok).toBe(true);
  });

  it('refuses a Key Vault and a local key together', async () => {
    const kv = await vault();
    const { dir } = await buildOutput(fixtures, 'action-both');
    const run = await runAction({ ...vaultInputs(kv, dir), 'pfx-file': pki.leaves.rsa.pfx }, jobEnv());
    expect(run.code).toBe(1);
    expect(run.log).toMatch(
      /::error::the inputs name 2 key stores: a local key \(pfx-file\) and Azure Key Vault \(azure-key-vault-url, azure-key-vault-certificate\)/,
    );
  });
});
