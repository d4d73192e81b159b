import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEntraId, type EntraId } from '../test/emulators/entra-id.js';
import { startKeyVault, type KeyVault, type KeyVaultOptions } from '../test/emulators/key-vault.js';
import { endless } from '../test/hostile-replies.js';
import { runCliMeasured } from '../test/measure-cli.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { AIA_PORT, ensureTestPki, type TestPki } from '../test/pki.js';

const TENANT = '7d1c0ffe-0000-4000-8000-00000000d1ed';
const SIGNER = {
  clientId: '33333333-cccc-4000-8000-000000000003',
  objectId: 'oid-signer',
  secret: 's3cret~Q',
};

let pki: TestPki;
let fixtures: PeFixture[];
let entra: EntraId;
const vaults: KeyVault[] = [];
const entraOptions = { tenantId: TENANT, apps: [SIGNER], stallTokens: false };

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  entra = await startEntraId(pki, entraOptions);
});
afterAll(() => Promise.all([entra.close(), ...vaults.map((v) => v.close())]));

async function vault(overrides: Partial<KeyVaultOptions> = {}): Promise<KeyVault> {
  const started = await startKeyVault(pki, {
    tenantId: TENANT,
    entra,
    certificates: [
      { name: 'release-rsa', certificateFile: pki.leaves.rsa.cert, keyFile: pki.leaves.rsa.key },
      { name: 'release-aia', certificateFile: pki.aia.cert, keyFile: pki.aia.key },
    ],
    permissions: { [SIGNER.objectId]: ['certificates/get', 'keys/get', 'keys/sign'] },
    ...overrides,
  });
  vaults.push(started);
  return started;
}

function accessToken(): string {
  return entra.jwt.issue({
    aud: 'https://vault.azure.net',
    tid: TENANT,
    oid: SIGNER.objectId,
    exp: Math.floor(Date.now() / 1000) + 600,
  });
}

/** Signs a fresh copy of a fixture with the vault through the shipped CLI; returns the run and the file. */
async function signWithVault(
  kv: KeyVault,
  credential: string[],
  extra: string[] = [],
  certificate = 'release-rsa',
) {
  const file = await copyFixture(
    fixtures.find((f) => f.name === 'pe64.dll')!,
    await scratchDir('kv-deadline'),
  );
  const before = await readFile(file);
  const run = await runCliMeasured(
    [
      'sign',
      '--azure-key-vault-url',
      kv.url,
      '--azure-key-vault-certificate',
      certificate,
      '--azure-tenant-id',
      TENANT,
      ...credential,
      '--timestamp-rfc3161',
      'none',
      ...extra,
      file,
    ],
    { AZURE_AUTHORITY_HOST: entra.authorityHost, NODE_EXTRA_CA_CERTS: pki.https.ca },
  );
  const unchanged = (await readFile(file)).equals(before);
  return { run, file, unchanged, output: run.stdout + run.stderr };
}

const token = () => ['--azure-access-token', accessToken()];
const secret = ['--azure-client-id', SIGNER.clientId, '--azure-client-secret', SIGNER.secret];

describe('the timeout reaches signer set-up: the run ends and the process exits soon after it', () => {
  // Each stall lasts 60 s unless the client hangs up: a process that outlives the timeout by
  // seconds still has the request open (or an SDK retry pending).
  it.each<[string, Pick<KeyVaultOptions, 'stall'>, () => string[]]>([
    ['the certificate read', { stall: 'certificate' }, token],
    ['the probe signature', { stall: 'sign' }, token],
    ['the Entra sign-in (MSAL, which does not pass the signal on)', {}, () => secret],
  ])('a vault set-up that stalls in %s', async (what, overrides, credential) => {
    entraOptions.stallTokens = what.startsWith('the Entra');
    try {
      const kv = await vault(overrides);
      const { run, unchanged, output } = await signWithVault(kv, credential(), ['--timeout', '3']);
      expect(run.code).not.toBe(0);
      expect(output).toContain('the 3 s timeout ran out while preparing the signer; no file was changed');
      expect(unchanged).toBe(true);
      expect(run.elapsedMs).toBeLessThan(6_000);
      expect(kv.stats.signCalls).toBe(overrides.stall === 'sign' ? 1 : 0);
    } finally {
      entraOptions.stallTokens = false;
    }
  });
});

describe('Azure replies are capped', () => {
  it('a certificate read whose body never ends fails at 1 MiB, with bounded memory', async () => {
    const kv = await vault({ endlessCertificate: true });
    const { run, unchanged, output } = await signWithVault(kv, token());
    expect(run.code).not.toBe(0);
    expect(output).toMatch(
      /reading certificate release-rsa in https:\/\/\S+ failed: the reply from https:\/\/\S+\/certificates\/release-rsa\/? exceeds 1 MiB; is this an Azure endpoint\?/,
    );
    expect(unchanged).toBe(true);
    expect(run.peakRssMb).toBeLessThan(300);
  });

  it('an AIA server that streams without end is cut off with a warning, and signing goes on', async () => {
    const aia = createServer((_request, response) => void endless(response, 200));
    await new Promise<void>((resolve) => aia.listen(AIA_PORT, '127.0.0.1', resolve));
    try {
      const kv = await vault();
      const { run, output } = await signWithVault(kv, token(), [], 'release-aia');
      expect(run.code).toBe(0);
      expect(output).toContain(
        `warning: the signatures carry an incomplete certificate chain (fetching the issuer failed: the reply from http://127.0.0.1:${AIA_PORT}/intermediate-ca.cer exceeds 1 MiB; is the URL in the certificate an issuer certificate?)`,
      );
      expect(run.peakRssMb).toBeLessThan(300);
      expect(run.stdout).toContain('1 signed, 0 skipped, 0 failed');
    } finally {
      aia.closeAllConnections();
      await new Promise<void>((resolve) => aia.close(() => resolve()));
    }
  });
});
