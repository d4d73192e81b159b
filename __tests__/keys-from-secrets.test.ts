import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, PFX_PASSWORD, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';

let pki: TestPki;
let fixtures: PeFixture[];
/** The PFX as `base64` prints it: wrapped at 76 columns, so the secret spans many lines. */
let pfxBase64: string;
let certificate: string;
let privateKey: string;

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  pfxBase64 = (await readFile(pki.leaves.rsa.pfx)).toString('base64').replace(/.{76}/g, '$&\n');
  certificate = await readFile(pki.leaves.ec.chain, 'utf8');
  privateKey = await readFile(pki.leaves.ec.key, 'utf8');
}, 300_000);

async function oneFile(label: string): Promise<string> {
  const exe = fixtures.find((f) => f.kind === 'exe' && f.bits === 64 && !f.overlay);
  if (!exe) throw new Error('no 64-bit exe fixture');
  return copyFixture(exe, await scratchDir(label));
}

/** The lines of a secret that the log must never show: the whole value and each non-armour line. */
function secretLines(secret: string): string[] {
  return [secret, ...secret.split('\n').map((l) => l.trim())].filter(
    (line) => line.length > 0 && !/^-----(BEGIN|END) /.test(line),
  );
}

/** No line of `log` shows any part of a secret, except the add-mask commands that hide it. */
function expectNowhere(log: string, secrets: string[]) {
  const shown = log
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .filter((line) => secrets.some((secret) => secretLines(secret).some((part) => line.includes(part))));
  expect(shown).toEqual([]);
}

const DEBUG = { ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' };

describe('keys from secrets, through the Action', () => {
  it.each([
    ['pfx-base64', () => ({ 'pfx-base64': pfxBase64, 'pfx-password': PFX_PASSWORD })],
    ['certificate + private-key', () => ({ certificate, 'private-key': privateKey })],
  ])('signs with %s, masking every line of the secrets with debug on', async (_how, inputs) => {
    const file = await oneFile('secrets-action');
    const given = inputs();
    const run = await runAction({ ...given, files: file, 'timestamp-rfc3161': 'none' }, DEBUG);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs['signed-files'])).toHaveLength(1);
    const verdict = await osslVerify(file, pki.rootCa);
    expect(verdict.output).toMatch(/Succeeded/);
    expect(verdict.ok).toBe(true);
    const secrets = Object.entries(given)
      .filter(([name]) => name !== 'certificate')
      .map(([, value]) => value);
    expectNowhere(run.log, secrets);
    // Each line of a multi-line secret gets its own mask: the runner matches per line.
    for (const secret of secrets) {
      for (const part of secretLines(secret)) {
        if (!part.includes('\n')) expect(run.log).toContain(`::add-mask::${part}`);
      }
    }
  });

  it('refuses two key sources, naming both, and leaves the file as it was', async () => {
    const file = await oneFile('secrets-two');
    const before = await readFile(file);
    const run = await runAction({
      'pfx-base64': pfxBase64,
      'pfx-password': PFX_PASSWORD,
      'private-key': privateKey,
      files: file,
      'timestamp-rfc3161': 'none',
    });
    expect(run.code).not.toBe(0);
    expect(run.log).toContain(
      'pfx-base64 and certificate / private-key both name a local key: give exactly one of pfx-file, pfx-base64, certificate-file / private-key-file, certificate / private-key',
    );
    expect(await readFile(file)).toEqual(before);
    expectNowhere(run.log, [pfxBase64, privateKey, PFX_PASSWORD]);
  });

  it('names a missing PFX password, and still calls a wrong one wrong', async () => {
    const file = await oneFile('secrets-password');
    const before = await readFile(file);
    const inputs = { 'pfx-base64': pfxBase64, files: file, 'timestamp-rfc3161': 'none' };
    const missing = await runAction(inputs);
    expect(missing.code).not.toBe(0);
    expect(missing.log).toContain('pfx-base64: pfx-password is missing: the PFX is encrypted');
    expect(missing.log).not.toContain('wrong password');
    const wrong = await runAction({ ...inputs, 'pfx-password': 'not-the-password' });
    expect(wrong.code).not.toBe(0);
    expect(wrong.log).toContain('pfx-base64: wrong password for this PFX file');
    expect(wrong.log).not.toContain('is missing');
    expect(await readFile(file)).toEqual(before);
    expectNowhere(missing.log + wrong.log, [pfxBase64]);
  });

  it('refuses base64 that is not base64, naming the input', async () => {
    const file = await oneFile('secrets-not-base64');
    const run = await runAction({ 'pfx-base64': 'not base64!', files: file, 'timestamp-rfc3161': 'none' });
    expect(run.code).not.toBe(0);
    expect(run.log).toContain('pfx-base64: not base64 text');
  });
});

describe('keys from secrets, through the CLI environment', () => {
  it.each([
    [
      'VAULTSIGN_PFX_BASE64',
      () => ({ VAULTSIGN_PFX_BASE64: pfxBase64, VAULTSIGN_PFX_PASSWORD: PFX_PASSWORD }),
    ],
    [
      'VAULTSIGN_CERTIFICATE + VAULTSIGN_PRIVATE_KEY',
      () => ({ VAULTSIGN_CERTIFICATE: certificate, VAULTSIGN_PRIVATE_KEY: privateKey }),
    ],
  ])('signs with %s, the secrets never on the command line', async (_how, env) => {
    const file = await oneFile('secrets-cli');
    const run = await runCli(['sign', '--timestamp-rfc3161', 'none', file], { env: env() });
    expect(run.code).toBe(0);
    expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
    expectNowhere(run.stdout + run.stderr, Object.values(env()));
  });

  it('refuses an environment key next to a flag key, naming both', async () => {
    const file = await oneFile('secrets-cli-two');
    const before = await readFile(file);
    const run = await runCli(
      ['sign', '--pfx-file', pki.leaves.rsa.pfx, '--timestamp-rfc3161', 'none', file],
      {
        env: { VAULTSIGN_PRIVATE_KEY: privateKey, VAULTSIGN_PFX_PASSWORD: PFX_PASSWORD },
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pfx-file and certificate / private-key both name a local key');
    expect(await readFile(file)).toEqual(before);
  });
});
