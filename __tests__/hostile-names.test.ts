import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';

/** The lines the runner would take for workflow commands: "::" after leading spaces, or "##[" anywhere. */
function commands(log: string): string[] {
  return log.split(/\r?\n/).filter((line) => line.trimStart().startsWith('::') || line.includes('##['));
}

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

/** One file that signs and one that fails, both named to inject commands and markup. */
async function hostileNames(label: string): Promise<{ dir: string; good: string; bad: string }> {
  const dir = await scratchDir(label);
  const good = join(dir, 'good\n::warning::injected\n##[add-mask]legacy <img src=x>.exe');
  const bad = join(dir, 'bad\n::add-mask::leak <img src=y>.exe');
  await copyFile(fixtures.find((f) => f.name === 'pe64.exe')!.path, good);
  await writeFile(bad, 'not a program\n');
  return { dir, good, bad };
}

describe('hostile file names', () => {
  it('the Action logs and summarises them without a workflow command or markup from them', async () => {
    const { dir, good, bad } = await hostileNames('hostile-action');
    const run = await runAction(
      {
        'certificate-file': pki.leaves.rsa.chain,
        'private-key-file': pki.leaves.rsa.key,
        'files-folder': dir,
        'timestamp-rfc3161': 'none',
      },
      {},
      dir,
    );
    expect(run.outputs['signed-count']).toBe('1');
    expect(run.outputs['failed-count']).toBe('1');
    expect(run.code).toBe(1);
    // Only the Action's own commands: the glob library's debug lines, the timestamp warning, the bad
    // file's annotation (its name escaped in the file property) and the total.
    expect(commands(run.log).filter((line) => !line.startsWith('::debug::'))).toEqual([
      expect.stringMatching(/^::warning::timestamping is off/),
      expect.stringMatching(
        /^::error title=vaultsign%3A not signed,file=bad%0A%3A%3Aadd-mask%3A%3Aleak <img src=y>\.exe::failed: bad%250A::add-mask::leak <img src=y>\.exe — not a file format/,
      ),
      '::error::1 of 2 file(s) were not signed',
    ]);
    expect(run.log).toContain('signed: good%0A::warning::injected%0A##%5Badd-mask]legacy <img src=x>.exe — ');
    expect(run.summary).not.toMatch(/<img/);
    expect(run.summary).toContain('good%0A::warning::injected%0A##[add-mask]legacy &lt;img src=x&gt;.exe');
    expect(run.summary).toContain('bad%0A::add-mask::leak &lt;img src=y&gt;.exe');
    expect((await osslVerify(good, pki.rootCa)).ok).toBe(true);
    expect(await readFile(bad, 'utf8')).toBe('not a program\n');
  });

  it('the CLI in a workflow step prints them without a workflow command', async () => {
    const { dir } = await hostileNames('hostile-cli');
    const run = await runCli(
      ['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none', '--files', join(dir, '*.exe')],
      { env: { GITHUB_ACTIONS: 'true' } },
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('1 signed, 0 skipped, 1 failed');
    // The glob library's own debug lines are the only commands; their data is escaped by @actions/core.
    expect(commands(run.stdout + run.stderr).filter((l) => !l.startsWith('::debug::'))).toEqual([]);
    // A name keeps its line breaks in the terminal, but no line of it starts a command.
    expect(run.stderr).toMatch(/^failed {2}.*bad\n%3A:add-mask::leak <img src=y>\.exe: not a file format/m);
  });

  it('the CLI prints no ::debug:: lines outside GitHub Actions', async () => {
    const { dir } = await hostileNames('cli-quiet');
    const run = await runCli(
      ['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none', '--files', join(dir, 'good*')],
      { env: { GITHUB_ACTIONS: '' } },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 signed, 0 skipped, 0 failed');
    expect(commands(run.stdout + run.stderr)).toEqual([]);
  });

  it("the Action shows a timestamp server's control bytes and command text as inert text", async () => {
    const tsa = createServer((_req, res) =>
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end('\u001b[2J\u001b[31mdenied ##[add-mask]x'),
    );
    await new Promise<void>((r) => tsa.listen(0, '127.0.0.1', r));
    try {
      const dir = await scratchDir('hostile-tsa');
      const file = await copyFixture(
        fixtures.find((f) => f.name === 'pe64.exe')!,
        dir,
        'a.exe',
      );
      const before = await readFile(file);
      const run = await runAction(
        {
          'certificate-file': pki.leaves.rsa.chain,
          'private-key-file': pki.leaves.rsa.key,
          files: file,
          'timestamp-rfc3161': `http://127.0.0.1:${(tsa.address() as AddressInfo).port}/`,
        },
        {},
        dir,
      );
      expect(run.code).toBe(1);
      expect(run.log).not.toContain('\u001b');
      expect(run.log).toMatch(/^::error title=.*HTTP 403 Forbidden \(denied ##%255Badd-mask\]x\)/m);
      expect(commands(run.log).filter((l) => !l.startsWith('::debug::') && !l.startsWith('::error'))).toEqual(
        [],
      );
      expect((await readFile(file)).equals(before)).toBe(true);
    } finally {
      tsa.close();
    }
  });
});
