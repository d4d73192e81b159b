import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

const copy = async (label: string) =>
  copyFixture(
    fixtures.find((f) => f.name === 'pe64.dll')!,
    await scratchDir(label),
  );
/** A local key whose certificate file holds the leaf alone: no intermediate, no AIA. */
const leafOnly = () => [
  'sign',
  '--certificate-file',
  pki.leaves.rsa.cert,
  '--private-key-file',
  pki.leaves.rsa.key,
  '--timestamp-rfc3161',
  'none',
];
const MISSING =
  /warning: the signatures carry an incomplete certificate chain: the issuer of "vaultsign test signer rsa", "CN=vaultsign Test Code Signing CA, O=vaultsign tests", is not in it; give additional-certificates with the intermediate certificates/;

describe('the chain a local key signs with', () => {
  it('warns, naming the missing issuer, when the certificate file holds the leaf alone', async () => {
    const file = await copy('chain-leaf-only');
    const run = await runCli([...leafOnly(), file]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(MISSING);
    // What the warning is about: without the intermediate no verifier builds a path to the root.
    expect((await osslVerify(file, pki.rootCa)).ok).toBe(false);
  });

  it('takes the intermediates from additional-certificates (a file or PEM text) and then verifies', async () => {
    for (const given of [pki.intermediateCa, await readFile(pki.intermediateCa, 'utf8')]) {
      const file = await copy('chain-additional');
      const run = await runCli([...leafOnly(), `--additional-certificates=${given}`, file]);
      expect(run.code).toBe(0);
      expect(run.stderr).not.toMatch(/incomplete certificate chain/);
      expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
    }
  });

  it('refuses an additional-certificates path that does not exist, touching no file', async () => {
    const file = await copy('chain-missing-path');
    const before = await readFile(file);
    const missing = join(pki.dir, 'no-such-intermediates.pem');
    const run = await runCli([...leafOnly(), '--additional-certificates', missing, file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `error: additional-certificates ${missing}: no such file; give the path of a PEM file or the PEM text itself`,
    );
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('the Action shows the missing issuer as a warning annotation', async () => {
    const file = await copy('chain-action');
    const run = await runAction({
      'certificate-file': pki.leaves.rsa.cert,
      'private-key-file': pki.leaves.rsa.key,
      files: file,
      'timestamp-rfc3161': 'none',
    });
    expect(run.code).toBe(0);
    expect(run.log).toMatch(
      /^::warning::the signatures carry an incomplete certificate chain: the issuer of "vaultsign test signer rsa", "CN=vaultsign Test Code Signing CA, O=vaultsign tests", is not in it/m,
    );
  });
});
