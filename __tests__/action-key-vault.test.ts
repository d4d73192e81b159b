import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEntraId, type EntraId } from '../test/emulators/entra-id.js';
import { startGithubOidc, type GithubOidc } from '../test/emulators/github-oidc.js';
import { startKeyVault, type KeyVault, type KeyVaultOptions } from '../test/emulators/key-vault.js';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
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

let pki: TestPki;
let fixtures: PeFixture[];
let github: GithubOidc;
let entra: EntraId;
let tsa: TsaServer;
const vaults: KeyVault[] = [];

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  github = await startGithubOidc(pki, { subject: MAIN });
  entra = await startEntraId(pki, {
    tenantId: TENANT,
    github,
    apps: [
      { ...SIGNER, federatedSubjects: [MAIN] },
      { ...READER, federatedSubjects: [MAIN] },
    ],
  });
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

/** A folder of mingw-built dlls and exes, as a build would leave it. */
async function buildOutput(label: string): Promise<{ dir: string; files: string[] }> {
  const dir = await scratchDir(label);
  const files = await Promise.all(
    fixtures.filter((f) => !f.overlay || f.overlay === 1001).map((f) => copyFixture(f, dir)),
  );
  return { dir, files };
}

/** The environment of a job with id-token: write, pointed at the emulators by the standard variables. */
function jobEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
    AZURE_AUTHORITY_HOST: entra.authorityHost,
    NODE_EXTRA_CA_CERTS: pki.https.ca,
    ...extra,
  };
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
    const { dir, files } = await buildOutput('kv-ok');
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
});
