import { beforeAll, describe, expect, it } from '@jest/globals';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

describe('description and description-url beyond ASCII', () => {
  it('keeps the program name in Unicode and writes the URL percent-encoded, as osslsigncode reads them', async () => {
    const file = await copyFixture(
      fixtures.find((f) => f.name === 'pe64.exe')!,
      await scratchDir('text'),
    );
    const run = await runCli([
      'sign',
      ...keyFlags(pki),
      '--timestamp-rfc3161',
      'none',
      '--description',
      'Bücher Café Ωmega',
      '--description-url',
      'https://bücher.example/café?q=ü#Ω',
      file,
    ]);
    expect(run.code).toBe(0);
    const verdict = await osslVerify(file, pki.rootCa);
    expect(verdict.ok).toBe(true);
    expect(verdict.output).toContain('Text description: Bücher Café Ωmega');
    expect(verdict.output).toContain(
      'URL description: https://xn--bcher-kva.example/caf%C3%A9?q=%C3%BC#%CE%A9',
    );
  });
});
