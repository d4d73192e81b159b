import { spawn } from 'node:child_process';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { CLI } from '../test/paths.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

const FILES = 60;
const KILLS = 6;

describe('a kill at any moment', () => {
  it('leaves every file untouched or fully signed, and the next run cleans up and signs the rest', async () => {
    const dir = await scratchDir('crash');
    const original = join(dir, 'original.exe');
    await copyFixture(
      fixtures.find((f) => f.name === 'pe64.exe')!,
      dir,
      'original.exe',
    );
    // Big enough that a kill lands mid-write often.
    await appendFile(original, Buffer.alloc(6 << 20, 0x5a));
    const pristine = await readFile(original);
    const files: string[] = [];
    for (let i = 0; i < FILES; i++)
      files.push(await copyFixture({ ...fixtures[0], path: original }, dir, `f${i}.exe`));
    const args = [
      'sign',
      '--certificate-file',
      pki.leaves.rsa.chain,
      '--private-key-file',
      pki.leaves.rsa.key,
      '--timestamp-rfc3161',
      'none',
      '--skip-signed',
      ...files,
    ];

    let signedAtSomeKill = 0;
    for (let round = 0; round < KILLS; round++) {
      const pending = await Promise.all(files.map(async (f) => (await readFile(f)).equals(pristine)));
      if (!pending.includes(true)) break;
      const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
      // Kill mid-run: once this round has written its first file, after a random moment more.
      const sizes = async () =>
        (await Promise.all(files.map((f) => stat(f)))).reduce((sum, s) => sum + s.size, 0);
      const start = await sizes();
      for (let waited = 0; waited < 20_000 && (await sizes()) === start; waited += 10) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await new Promise((r) => setTimeout(r, Math.random() * 100));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      for (const file of files) {
        const bytes = await readFile(file);
        if (bytes.equals(pristine)) continue;
        const verdict = await osslVerify(file, pki.rootCa);
        expect({ file, ok: verdict.ok }).toEqual({ file, ok: true });
        signedAtSomeKill++;
      }
    }
    expect(signedAtSomeKill).toBeGreaterThan(0);

    // A leftover the kills may or may not have produced: the next run must remove it either way.
    await writeFile(join(dir, '.f0.exe.vaultsign-0123456789ab.tmp'), 'half-written');
    const finish = await runCli(args);
    expect(finish.code).toBe(0);
    for (const file of files) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
