import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { progress } from '../src/pipeline/progress.js';
import type { FileResult } from '../src/pipeline/sign-files.js';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';
import { startTsaServer } from '../test/tsa-server.js';

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

const result = (status: FileResult['status']) => ({ status }) as FileResult;

describe('progress', () => {
  /** Feeds `statuses` one a `stepMs` apart and returns what was shown. */
  function feed(total: number, stepMs: number, statuses: FileResult['status'][], live = false): string[] {
    let t = 1000;
    const shown: string[] = [];
    const done = progress({ total, now: () => t, show: (text) => shown.push(text), live });
    for (const status of statuses) {
      t += stepMs;
      done(result(status));
    }
    return shown;
  }

  it('stays quiet on runs shorter than a few seconds', () => {
    expect(feed(50, 50, Array(50).fill('signed'))).toEqual([]);
  });

  it('logs every 10 % of the files on a long run, never once per file', () => {
    const statuses = Array<FileResult['status']>(2000).fill('signed');
    statuses[3] = statuses[700] = statuses[1500] = 'failed';
    // 2000 files, 20 ms each: 40 s in all; the quiet first 5 s hold 250 files.
    const shown = feed(2000, 20, statuses);
    // The first line when the quiet time ends (10 % have passed), then one per further 10 %.
    expect(shown[0]).toBe('signed 250/2000, 1 failed, 5 s');
    expect(shown[1]).toBe('signed 400/2000, 1 failed, 8 s');
    expect(shown).toContain('signed 1600/2000, 3 failed, 32 s');
    expect(shown.at(-1)).toBe('signed 2000/2000, 3 failed, 40 s');
    // 10 lines, not 2000.
    expect(shown).toHaveLength(10);
  });

  it('logs every ~10 s when files are slow', () => {
    // 1000 files, 3 s each: 10 % is 300 s, so the clock decides: the first 10 s after the start, then every 10 s.
    const shown = feed(1000, 3000, Array(20).fill('signed'));
    expect(shown).toEqual([
      'signed 4/1000, 0 failed, 12 s',
      'signed 8/1000, 0 failed, 24 s',
      'signed 12/1000, 0 failed, 36 s',
      'signed 16/1000, 0 failed, 48 s',
      'signed 20/1000, 0 failed, 60 s',
    ]);
  });

  it('says "checked" in a dry run', () => {
    let t = 0;
    const shown: string[] = [];
    const done = progress({ total: 2, now: () => t, show: (text) => shown.push(text), verb: 'checked' });
    t = 6000;
    done(result('would-sign'));
    expect(shown).toEqual(['checked 1/2, 0 failed, 6 s']);
  });

  it('as a live line, shows each result once the quiet time is over', () => {
    expect(feed(10, 1000, Array(10).fill('signed'), true)).toEqual(
      [5, 6, 7, 8, 9, 10].map((n) => `signed ${n}/10, 0 failed, ${n} s`),
    );
  });
});

describe('Action outputs', () => {
  it('lists failed and skipped files, workspace-relative, and logs the totals', async () => {
    const dir = await scratchDir('outputs');
    const [good, other, signed] = await Promise.all([
      copyFixture(fixtures[0], dir, 'good.exe'),
      copyFixture(fixtures[1], dir, 'good.dll'),
      copyFixture(fixtures[0], dir, 'signed.exe'),
    ]);
    await writeFile(join(dir, 'notes.txt'), 'not a program\n');
    expect((await runCli(['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none', signed])).code).toBe(0);
    const before = await sha256(join(dir, 'notes.txt'));
    const run = await runAction(
      {
        'certificate-file': pki.leaves.rsa.chain,
        'private-key-file': pki.leaves.rsa.key,
        'timestamp-rfc3161': 'none',
        'skip-signed': 'true',
        files: [good, other, signed, join(dir, 'notes.txt'), join(dir, 'missing.exe')].join('\n'),
      },
      {},
      dir,
    );
    expect(run.code).not.toBe(0);
    expect(JSON.parse(run.outputs['signed-files']).sort()).toEqual(['good.dll', 'good.exe']);
    expect(JSON.parse(run.outputs['skipped-files'])).toEqual(['signed.exe']);
    expect(JSON.parse(run.outputs['failed-files']).sort()).toEqual(['missing.exe', 'notes.txt']);
    expect(run.log).toMatch(/2 signed, 1 skipped, 2 failed/);
    expect(await sha256(join(dir, 'notes.txt'))).toBe(before);
  });
});

describe('Action progress', () => {
  it('logs "signed n/N" lines on a run of several seconds, not one per file, and the last is N/N', async () => {
    const dir = await scratchDir('action-progress');
    const files = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        copyFixture(fixtures[i % 2], dir, `f${i}.${i % 2 ? 'dll' : 'exe'}`),
      ),
    );
    // One file at a time behind a TSA that takes 400 ms: about 8 s in all, past the 5 s quiet time.
    const tsa = await startTsaServer({ configFile: pki.tsaConfig, latencyMs: 400 });
    try {
      const run = await runAction(
        {
          'certificate-file': pki.leaves.rsa.chain,
          'private-key-file': pki.leaves.rsa.key,
          'timestamp-rfc3161': tsa.url,
          concurrency: '1',
          files: files.join('\n'),
        },
        {},
        dir,
      );
      expect(run.code).toBe(0);
      const shown = [...run.log.matchAll(/^signed (\d+)\/20, 0 failed, (\d+) s$/gm)];
      const lines = shown.map((m) => Number(m[1]));
      // Nothing in the first 5 s (the elapsed time is in each line).
      expect(shown.every((m) => Number(m[2]) >= 5)).toBe(true);
      expect(lines.length).toBeGreaterThanOrEqual(2);
      expect(lines.length).toBeLessThanOrEqual(10);
      expect(lines.every((n, i) => i === 0 || n > lines[i - 1]!)).toBe(true);
      expect(lines.at(-1)).toBe(20);
      expect(run.log).toMatch(/20 signed, 0 skipped, 0 failed/);
    } finally {
      await tsa.close();
    }
  }, 120_000);
});

describe('digest policy', () => {
  it('refuses sha1 without allow-sha1, touching nothing; with it the signature verifies', async () => {
    const dir = await scratchDir('sha1');
    const file = await copyFixture(fixtures[0], dir, 'legacy.exe');
    const before = await sha256(file);
    const noTs = ['--timestamp-rfc3161', 'none'];
    const refused = await runCli(['sign', ...keyFlags(pki), ...noTs, '--file-digest', 'sha1', file]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /file-digest: sha1 is refused: SHA-1 signatures are rejected by Windows for code signed after 2016.*use sha256, or allow-sha1: true for legacy targets/,
    );
    expect(await sha256(file)).toBe(before);

    const tsRefused = await runCli(['sign', ...keyFlags(pki), '--timestamp-digest', 'sha1', file]);
    expect(tsRefused.stderr).toMatch(/timestamp-digest: sha1 is refused/);
    expect(await sha256(file)).toBe(before);

    const allowed = await runCli([
      'sign',
      ...keyFlags(pki),
      ...noTs,
      '--file-digest',
      'sha1',
      '--allow-sha1',
      file,
    ]);
    expect(allowed.code).toBe(0);
    const verdict = await osslVerify(file, pki.rootCa);
    expect(verdict.ok).toBe(true);
    expect(verdict.output).toMatch(/sha1/i);
  });
});
