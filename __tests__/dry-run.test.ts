import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

const noTimestamp = ['--timestamp-rfc3161', 'none'];
const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

/** Each file's status word and path, as the CLI printed them ("signed  a.exe: …"). */
function statuses(output: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const match of output.matchAll(/^(signed|skipped|would-sign|failed)\s+(\/\S+?): /gm))
    found[match[2]] = match[1];
  return found;
}

describe('dry run', () => {
  it('checks what a real run checks and predicts each file’s outcome, changing nothing', async () => {
    const dir = await scratchDir('dry-run');
    const [fresh, signed] = await Promise.all([
      copyFixture(fixtures[0], dir, 'fresh.exe'),
      copyFixture(fixtures[1], dir, 'signed.dll'),
    ]);
    const text = join(dir, 'notes.txt');
    const empty = join(dir, 'empty.exe');
    await Promise.all([writeFile(text, 'not a program\n'), writeFile(empty, '')]);
    const missing = join(dir, 'missing.exe');
    expect((await runCli(['sign', ...keyFlags(pki), ...noTimestamp, signed])).code).toBe(0);
    const files = [fresh, signed, text, empty, missing];
    const before = await Promise.all([fresh, signed, text, empty].map(sha256));

    for (const mode of [[], ['--skip-signed']]) {
      const args = ['sign', ...keyFlags(pki), ...noTimestamp, ...mode, ...files];
      const dry = await runCli([...args, '--dry-run']);
      expect(await Promise.all([fresh, signed, text, empty].map(sha256))).toEqual(before);
      // A file the real run would fail fails the dry run too: it is a check a pipeline can gate on.
      expect(dry.code).toBe(1);
      const predicted = statuses(dry.stdout + dry.stderr);
      expect(predicted).toEqual({
        [fresh]: 'would-sign',
        [signed]: mode.length ? 'skipped' : 'would-sign',
        [text]: 'failed',
        [empty]: 'failed',
        [missing]: 'failed',
      });
      expect(dry.stdout).toContain(
        `dry run: ${mode.length ? 1 : 2} would be signed, ${mode.length ? 1 : 0} skipped, 3 failed`,
      );
      if (!mode.length)
        expect(dry.stdout).toMatch(/would-sign \S+signed\.dll: would be signed: signature replaced/);
    }

    // The real run does what the dry run said, file for file.
    const real = await runCli(['sign', ...keyFlags(pki), ...noTimestamp, '--skip-signed', ...files]);
    const done = statuses(real.stdout + real.stderr);
    expect(done).toEqual({
      [fresh]: 'signed',
      [signed]: 'skipped',
      [text]: 'failed',
      [empty]: 'failed',
      [missing]: 'failed',
    });
  });

  it('refuses a key that does not match its certificate before looking at any file', async () => {
    const dir = await scratchDir('dry-run-key');
    const file = await copyFixture(fixtures[0], dir);
    const before = await sha256(file);
    const run = await runCli([
      'sign',
      '--certificate-file',
      pki.leaves.rsa.chain,
      '--private-key-file',
      pki.leaves.ec.key,
      ...noTimestamp,
      '--dry-run',
      file,
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/no certificate in it matches the private key/);
    expect(run.stdout).not.toMatch(/would-sign/);
    expect(await sha256(file)).toBe(before);
  });
});
