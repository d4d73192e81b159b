import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';
import { startTsaServer, type TsaServer } from '../test/tsa-server.js';

let pki: TestPki;
let fixtures: PeFixture[];
let slowTsa: TsaServer;
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  // Each timestamp takes a while: a signal always finds files in flight.
  slowTsa = await startTsaServer({ configFile: pki.tsaConfig, latencyMs: 400 });
});
afterAll(() => slowTsa.close());

const FILES = 24;
const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

async function batch(label: string): Promise<{ dir: string; files: string[]; originals: string[] }> {
  const dir = await scratchDir(label);
  const files = await Promise.all(
    Array.from({ length: FILES }, (_, i) => copyFixture(fixtures[i % fixtures.length], dir, `f${i}.exe`)),
  );
  return { dir, files, originals: await Promise.all(files.map(sha256)) };
}

/** Every file is either signed and valid, or byte-identical to its original. */
async function states(files: string[], originals: string[]): Promise<('signed' | 'original' | 'broken')[]> {
  return Promise.all(
    files.map(async (file, i) => {
      if ((await sha256(file)) === originals[i]) return 'original';
      return (await osslVerify(file, pki.rootCa)).ok ? 'signed' : 'broken';
    }),
  );
}

/** Signals `child` `delayMs` after it starts signing (Node's start-up on a loaded machine varies). */
function signalWhenSigning(
  name: NodeJS.Signals,
  delayMs: number,
  onSignal: (child: ChildProcess) => void = () => undefined,
) {
  return (child: ChildProcess) => {
    let armed = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      if (armed || !/^signing \d+ file/m.test(chunk.toString())) return;
      armed = true;
      setTimeout(() => {
        child.kill(name);
        onSignal(child);
      }, delayMs);
    });
  };
}

const reported = (output: string, file: string) =>
  new RegExp(`^(signed|failed)\\s+${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `, 'm').exec(output)?.[1];

describe('a cancelled run', () => {
  // Fixed moments across the run, so each trial interrupts different files.
  const trials: [NodeJS.Signals, number][] = [
    ['SIGTERM', 150],
    ['SIGINT', 700],
    ['SIGTERM', 1300],
    ['SIGINT', 1900],
  ];
  it.each(trials)(
    '%s after %i ms: files in flight finish or stay unchanged, every outcome reported true',
    async (name, delayMs) => {
      const { dir, files, originals } = await batch(`signal-${name}-${delayMs}`);
      let signalledAt = 0;
      const run = await runCli(
        ['sign', ...keyFlags(pki), '--timestamp-rfc3161', slowTsa.url, '--concurrency', '2', ...files],
        { during: signalWhenSigning(name, delayMs, () => (signalledAt = performance.now())) },
      );
      const exitMs = performance.now() - signalledAt;
      expect(run.code).toBe(name === 'SIGINT' ? 130 : 143);
      expect(run.stderr).toContain(`received ${name}: stopping`);
      // Files waiting on the TSA are abandoned at once: the run ends long before it would have.
      expect(exitMs).toBeLessThan(3000);

      const output = run.stdout + run.stderr;
      const found = await states(files, originals);
      expect(found).not.toContain('broken');
      files.forEach((file, i) =>
        expect({ file, reported: reported(output, file) }).toEqual({
          file,
          reported: found[i] === 'signed' ? 'signed' : 'failed',
        }),
      );
      const signed = found.filter((s) => s === 'signed').length;
      expect(run.stdout).toContain(`${signed} signed, 0 skipped, ${FILES - signed} failed`);
      expect(output).toMatch(new RegExp(`not signed, unchanged: the run was cancelled \\(${name}\\)`));
      expect((await readdir(dir)).filter((entry) => entry.startsWith('.'))).toEqual([]);
    },
  );

  it('a second signal exits at once; what it interrupts is restored by the next run', async () => {
    const { dir, files, originals } = await batch('signal-twice');
    const run = await runCli(
      ['sign', ...keyFlags(pki), '--timestamp-rfc3161', slowTsa.url, '--concurrency', '2', ...files],
      { during: signalWhenSigning('SIGTERM', 800, (child) => setTimeout(() => child.kill('SIGTERM'), 5)) },
    );
    // Exits 143 from our handler, or, when the first signal's run had already ended and removed it,
    // dies of the signal itself (what a shell also reports as 143).
    expect(run.signal === 'SIGTERM' || run.code === 143).toBe(true);
    // The next run finds any journal left behind, restores the file, and signs everything.
    const again = await runCli(['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none', ...files]);
    expect(again.code).toBe(0);
    expect(await states(files, originals)).toEqual(files.map(() => 'signed'));
    expect((await readdir(dir)).filter((entry) => entry.startsWith('.'))).toEqual([]);
  });

  it('the Action still writes its outputs and job summary, and fails the step', async () => {
    const { files, originals } = await batch('signal-action');
    const run = await runAction(
      {
        'certificate-file': pki.leaves.rsa.chain,
        'private-key-file': pki.leaves.rsa.key,
        'timestamp-rfc3161': slowTsa.url,
        concurrency: '2',
        files: files.join('\n'),
      },
      {},
      undefined,
      signalWhenSigning('SIGTERM', 700),
    );
    expect(run.code).not.toBe(0);
    expect(run.log).toContain('received SIGTERM: stopping');
    const found = await states(files, originals);
    expect(found).not.toContain('broken');
    const signed = found.filter((s) => s === 'signed').length;
    expect(signed).toBeLessThan(FILES);
    expect(run.outputs['signed-count']).toBe(String(signed));
    expect(run.outputs['failed-count']).toBe(String(FILES - signed));
    expect(run.summary).toContain(`${signed} signed, 0 skipped, ${FILES - signed} failed`);
    expect(run.summary).toContain('the run was cancelled (SIGTERM)');
  });
});
