import { beforeAll, describe, expect, it } from '@jest/globals';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';

let pki: TestPki;
let signed: string;

beforeAll(async () => {
  let fixtures: PeFixture[];
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  signed = await copyFixture(fixtures[0]!, await scratchDir('verify-trust'));
  expect((await runCli(['sign', ...keyFlags(pki), '-tr', 'none', signed])).code).toBe(0);
});

describe('vaultsign verify trust anchors', () => {
  it('without --ca-file a file signed by a private root is not trusted', async () => {
    const run = await runCli(['verify', signed]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('INVALID');
  });

  it('--ca-file adds the private root to the system store', async () => {
    const run = await runCli(['verify', '--ca-file', pki.rootCa, signed]);
    expect(run.stdout).toContain('1 valid, 0 failed');
    expect(run.code).toBe(0);
  });

  it('--ca-file-only with an unrelated root trusts nothing else', async () => {
    const run = await runCli(['verify', '--ca-file', pki.otherRoot, '--ca-file-only', signed]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('0 valid, 1 failed');
  });

  it('--ca-file-only without --ca-file is refused', async () => {
    const run = await runCli(['verify', '--ca-file-only', signed]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--ca-file-only needs --ca-file');
  });
});
