import { X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
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

async function copies(label: string, ...names: string[]): Promise<string[]> {
  const dir = await scratchDir(label);
  return Promise.all(
    names.map((name) =>
      copyFixture(
        fixtures.find((f) => f.name === name)!,
        dir,
      ),
    ),
  );
}

describe('help and version', () => {
  it.each([
    ['sign', '--help', /^Usage: vaultsign sign /],
    ['sign', '-h', /--timestamp-rfc3161/],
    ['verify', '--help', /^Usage: vaultsign verify /],
    ['verify', '-h', /--ca-file/],
  ])('vaultsign %s %s prints that command’s help and exits 0', async (command, flag, expected) => {
    const run = await runCli([command, flag]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(expected);
  });

  it('vaultsign help verify is vaultsign verify --help', async () => {
    expect(await runCli(['help', 'verify'])).toEqual(await runCli(['verify', '--help']));
  });

  it('sign help wins over other flags, even a misspelt one', async () => {
    const run = await runCli(['sign', '--tiemout', '5', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: vaultsign sign /);
  });

  it.each(['--version', '-V'])('%s prints package.json’s version, from the shipped copy', async (flag) => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const run = await runCli([flag]);
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('unknown options', () => {
  it('names the nearest option when the flag is a slip', async () => {
    const run = await runCli(['sign', '--tiemout', '5', 'a.exe']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: unknown option --tiemout; did you mean --timeout?\n');
  });

  it('suggests nothing for a flag far from every option', async () => {
    const run = await runCli(['verify', '--colour', 'a.exe']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: unknown option --colour (see vaultsign --help)\n');
  });

  it.each([
    ['-kvm', 'error: unknown option -kvm (see vaultsign --help)\n'],
    ['-timeout', 'error: unknown option -timeout; did you mean --timeout?\n'],
  ])('names a one-dash word %s as written, not its first letter', async (flag, message) => {
    const run = await runCli(['sign', flag, 'a.exe']);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 2, stderr: message });
  });
});

describe('AzureSignTool short flags', () => {
  it('signs with -tr, -fd, -d, -du and -mdop and names each vaultsign option', async () => {
    const files = await copies('ast-flags', 'pe32.exe', 'pe64-overlay4096.dll');
    const run = await runCli([
      'sign',
      ...keyFlags(pki),
      '-tr',
      'none',
      '-fd',
      'sha384',
      '-d',
      'Alias Test',
      '-du',
      'https://example.com/alias',
      '-mdop',
      '2',
      ...files,
    ]);
    expect(run.code).toBe(0);
    for (const [flag, name] of [
      ['-tr', 'timestamp-rfc3161'],
      ['-fd', 'file-digest'],
      ['-d', 'description'],
      ['-du', 'description-url'],
      ['-mdop', 'concurrency'],
    ]) {
      expect(run.stderr).toContain(`notice: ${flag} (AzureSignTool) is --${name} in vaultsign`);
    }
    for (const file of files) {
      const verdict = await osslVerify(file, pki.rootCa);
      expect(verdict.ok).toBe(true);
      expect(verdict.output).toMatch(/SHA384/);
      expect(verdict.output).toContain('Alias Test');
      expect(verdict.output).toContain('https://example.com/alias');
    }
  });

  it('-s skips a file already signed; -ifl reads a catalog and says how its paths resolve', async () => {
    const [signed, fresh] = await copies('ast-skip', 'pe32.exe', 'pe64-overlay4096.dll');
    expect((await runCli(['sign', ...keyFlags(pki), '-tr', 'none', signed!])).code).toBe(0);
    const before = await readFile(signed!);
    const catalog = path.join(path.dirname(signed!), 'files.txt');
    await writeFile(catalog, `${path.basename(signed!)}\n${path.basename(fresh!)}\n`);
    const run = await runCli(['sign', ...keyFlags(pki), '-tr', 'none', '-s', '-ifl', catalog]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('notice: -s (AzureSignTool) is --skip-signed in vaultsign');
    expect(run.stderr).toContain(
      "notice: -ifl (AzureSignTool) is --files-catalog in vaultsign; vaultsign reads relative paths in the list from the list file's own folder, AzureSignTool from the working directory",
    );
    expect(run.stdout).toMatch(/1 signed, 1 skipped, 0 failed/);
    expect(await readFile(signed!)).toEqual(before);
    expect((await osslVerify(fresh!, pki.rootCa)).ok).toBe(true);
  });

  it('rewrites the Key Vault flags: the error names the vaultsign inputs', async () => {
    const run = await runCli(['sign', '-kvu', 'https://example.vault.azure.net', '-tr', 'none', 'a.exe']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('notice: -kvu (AzureSignTool) is --azure-key-vault-url in vaultsign');
    expect(run.stderr).toMatch(/error: azure-key-vault-certificate is missing/);
  });
});

describe('output modes', () => {
  async function signedAndFailed(label: string) {
    const [good] = await copies(label, 'pe32.exe');
    const bad = path.join(path.dirname(good!), 'not-pe.exe');
    await writeFile(bad, 'MZ this is not a PE file');
    return { good: good!, bad };
  }

  it('--json prints one record per file and a totals record, and nothing else, on stdout', async () => {
    const { good, bad } = await signedAndFailed('json');
    const size = (await stat(good)).size;
    const run = await runCli(['sign', ...keyFlags(pki), '-tr', 'none', '--json', good, bad]);
    expect(run.code).toBe(1);
    const records = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const thumbprint = new X509Certificate(await readFile(pki.leaves.rsa.cert)).fingerprint.replace(/:/g, '');
    const byPath = Object.fromEntries(records.filter((r) => r.type === 'file').map((r) => [r.path, r]));
    expect(byPath[good]).toMatchObject({ status: 'signed', format: 'PE', size, thumbprint, timestamp: null });
    expect(typeof byPath[good]!.durationMs).toBe('number');
    expect(byPath[bad]).toMatchObject({ status: 'failed', format: null, thumbprint: null });
    expect(typeof byPath[bad]!.detail).toBe('string');
    expect(records.at(-1)).toEqual({
      type: 'totals',
      dryRun: false,
      signed: 1,
      wouldSign: 0,
      skipped: 0,
      failed: 1,
    });
    expect(records).toHaveLength(3);
  });

  it('--quiet prints only the failure, warnings and the totals line', async () => {
    const { good, bad } = await signedAndFailed('quiet');
    const run = await runCli(['sign', ...keyFlags(pki), '-tr', 'none', '--quiet', good, bad]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('1 signed, 0 skipped, 1 failed\n');
    expect(run.stderr.split('\n')).toEqual([
      expect.stringMatching(/^notice: -tr /),
      expect.stringMatching(/^warning: timestamping is off/),
      expect.stringMatching(/^failed +.*not-pe\.exe: not a valid PE file/),
      '',
    ]);
  });
});
