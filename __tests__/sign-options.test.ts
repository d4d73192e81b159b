import { randomBytes } from 'node:crypto';
import { appendFile, chmod, readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuthenticodeSignature } from '../src/authenticode/signature.js';
import { parseTimestampToken } from '../src/authenticode/timestamp-token.js';
import { openSignable } from '../src/formats/open-file.js';
import { CHECKSUM_THREAD_MIN_BYTES } from '../src/formats/pe/checksum-thread.js';
import { extractSignature, osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, PFX_PASSWORD, type LeafName, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';
import { startTsaServer, type TsaServer } from '../test/tsa-server.js';

let pki: TestPki;
let fixtures: PeFixture[];
let tsa: TsaServer;
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  tsa = await startTsaServer({ configFile: pki.tsaConfig });
});
afterAll(() => tsa.close());

const fixture = (name: string) => fixtures.find((f) => f.name === name)!;
const pemKey = (leaf?: LeafName) => keyFlags(pki, leaf);
const noTimestamp = ['--timestamp-rfc3161', 'none'];

async function copy(name: string, label = 'options'): Promise<string> {
  return copyFixture(fixture(name), await scratchDir(label));
}

describe('large files', () => {
  it('sums the checksum on a second thread to the value osslsigncode computes, signing and re-signing', async () => {
    const file = await copy('pe32.exe', 'large');
    // Random bytes of odd length: every word and the carry folding count.
    await appendFile(file, randomBytes(CHECKSUM_THREAD_MIN_BYTES + 1001));
    for (const round of ['signed', 're-signed']) {
      expect({ round, code: (await runCli(['sign', ...pemKey(), ...noTimestamp, file])).code }).toEqual({
        round,
        code: 0,
      });
      const verdict = await osslVerify(file, pki.rootCa);
      expect(verdict.ok).toBe(true);
      // osslsigncode prints one "PE checksum" line when it agrees (osslVerify fails on a disagreement).
      expect(verdict.output).toMatch(/^PE checksum\s*: [0-9A-F]{8}/m);
    }
  });
});

describe('existing signatures', () => {
  it('appends nested signatures, and replaces them all by default', async () => {
    const file = await copy('pe64-overlay4096.dll');
    expect((await runCli(['sign', ...pemKey('rsa'), '--timestamp-rfc3161', tsa.url, file])).code).toBe(0);
    const append = await runCli([
      'sign',
      ...pemKey('ec'),
      '--file-digest',
      'sha384',
      '--append-signature',
      ...noTimestamp,
      file,
    ]);
    expect(append.stdout).toContain('appended as a nested signature');
    let verdict = await osslVerify(file, pki.rootCa);
    expect([verdict.ok, verdict.verified]).toEqual([true, 2]);
    // Authenticode's SignedData is version 1 (CMS libraries write 3), also after the primary was re-encoded.
    const written = AuthenticodeSignature.fromDer(await extractSignature(file));
    expect([written.signedData.version, written.nested[0].signedData.version]).toEqual([1, 1]);

    const ours = await runCli(['verify', '--ca-file', pki.rootCa, file]);
    expect(ours.code).toBe(0);
    expect(ours.stdout).toMatch(/signature: signer "vaultsign test signer rsa", sha256, timestamp \d{4}-/);
    expect(ours.stdout).toMatch(
      /nested signature 1: signer "vaultsign test signer ec", sha384, no timestamp/,
    );

    await runCli(['sign', ...pemKey('rsa'), '--append-signature', ...noTimestamp, file]);
    expect((await osslVerify(file, pki.rootCa)).verified).toBe(3);

    const replace = await runCli(['sign', ...pemKey('rsa'), ...noTimestamp, file]);
    expect(replace.stdout).toContain('signature replaced');
    verdict = await osslVerify(file, pki.rootCa);
    expect([verdict.ok, verdict.verified]).toEqual([true, 1]);
  });

  it('leaves signed files untouched with --skip-signed and says so', async () => {
    const file = await copy('pe32.exe');
    await runCli(['sign', ...pemKey(), ...noTimestamp, file]);
    const before = await readFile(file);
    const run = await runCli(['sign', ...pemKey('ec'), '--skip-signed', ...noTimestamp, file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/skipped .*already signed/);
    expect(run.stdout).toContain('0 signed, 1 skipped, 0 failed');
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('refuses to combine --append-signature with --skip-signed', async () => {
    const file = await copy('pe32.exe');
    const run = await runCli([
      'sign',
      ...pemKey(),
      '--append-signature',
      '--skip-signed',
      ...noTimestamp,
      file,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/contradict each other/);
  });
});

describe('keys and options', () => {
  it.each([
    ['a PFX (AES)', () => ['--pfx-file', pki.leaves.rsa.pfx, '--pfx-password', PFX_PASSWORD]],
    ['a legacy 3DES PFX', () => ['--pfx-file', pki.rsaLegacyPfx, '--pfx-password', PFX_PASSWORD]],
    ['an EC PFX', () => ['--pfx-file', pki.leaves.ec.pfx, '--pfx-password', PFX_PASSWORD]],
    [
      'a PKCS#1 RSA key',
      () => ['--certificate-file', pki.leaves.rsa.chain, '--private-key-file', pki.rsaPkcs1Key],
    ],
    ['a SEC1 EC key', () => ['--certificate-file', pki.leaves.ec.chain, '--private-key-file', pki.ecSec1Key]],
    ['an RSA-4096 key', () => pemKey('rsa4096')],
    ['a P-384 key', () => pemKey('ec384')],
  ])('signs with %s', async (_what, key) => {
    const file = await copy('pe64.exe', 'keys');
    const run = await runCli(['sign', ...key(), ...noTimestamp, file]);
    expect(run.stderr).not.toMatch(/^failed/m);
    expect(run.code).toBe(0);
    expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
  });

  it('reads the PFX password from VAULTSIGN_PFX_PASSWORD and never prints it', async () => {
    const file = await copy('pe32.dll');
    const ok = await runCli(['sign', '--pfx-file', pki.leaves.rsa.pfx, ...noTimestamp, file], {
      env: { VAULTSIGN_PFX_PASSWORD: PFX_PASSWORD },
    });
    expect(ok.code).toBe(0);
    const wrong = await runCli([
      'sign',
      '--pfx-file',
      pki.leaves.rsa.pfx,
      '--pfx-password',
      'not-the-password-42',
      ...noTimestamp,
      file,
    ]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/wrong password/);
    expect(wrong.stderr + wrong.stdout).not.toContain('not-the-password-42');
  });

  it.each(['sha384', 'sha512'])(
    'uses --file-digest %s, with page hashes, description and URL',
    async (digest) => {
      const file = await copy('pe32-overlay1001.exe');
      const run = await runCli([
        'sign',
        ...pemKey(),
        ...noTimestamp,
        '--file-digest',
        digest,
        '--generate-page-hashes',
        '--description',
        'Vaultsign Test Program',
        '--description-url',
        'https://example.test/info',
        file,
      ]);
      expect(run.code).toBe(0);
      const verdict = await osslVerify(file, pki.rootCa);
      expect(verdict.ok).toBe(true);
      expect(verdict.output).toContain(`Message digest algorithm  : ${digest.toUpperCase()}`);
      expect(verdict.output).toMatch(/Page hash algorithm\s*: SHA256/);
      expect(verdict.output).toContain('Text description: Vaultsign Test Program');
      expect(verdict.output).toContain('URL description: https://example.test/info');
    },
  );

  it('refuses a certificate that does not belong to the key, before touching any file', async () => {
    const file = await copy('pe64.dll');
    const before = await readFile(file);
    const run = await runCli([
      'sign',
      '--certificate-file',
      pki.leaves.ec.chain,
      '--private-key-file',
      pki.leaves.rsa.key,
      ...noTimestamp,
      file,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no certificate in it matches the private key/);
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('refuses an RSA-1024 key', async () => {
    const file = await copy('pe64.dll');
    const run = await runCli([
      'sign',
      '--certificate-file',
      pki.rsa1024.cert,
      '--private-key-file',
      pki.rsa1024.key,
      ...noTimestamp,
      file,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/RSA keys of 2048 to 4096 bits are supported, this one has 1024/);
  });

  it('keeps the file mode', async () => {
    const file = await copy('pe64.exe');
    await chmod(file, 0o751);
    expect((await runCli(['sign', ...pemKey(), ...noTimestamp, file])).code).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o751);
  });
});

describe('timestamps', () => {
  it('falls back to the next URL when the first is down, with --timestamp-digest sha512', async () => {
    const file = await copy('pe32.dll');
    const dead = 'http://127.0.0.1:9/tsa';
    const run = await runCli([
      'sign',
      ...pemKey(),
      '--timestamp-rfc3161',
      `${dead},${tsa.url}`,
      '--timestamp-digest',
      'sha512',
      file,
    ]);
    expect(run.code).toBe(0);
    const verdict = await osslVerify(file, pki.rootCa);
    expect(verdict.ok).toBe(true);
    expect(verdict.output).toMatch(/Timestamp Server Signature verification: ok/);
    const opened = await openSignable(file);
    const token = AuthenticodeSignature.fromDer(opened.file.signature!).timestampToken!;
    await opened.close();
    expect(parseTimestampToken(token).hash).toBe('sha512');
  });

  it('warns that a signature without a timestamp dies with its certificate', async () => {
    const file = await copy('pe32.dll');
    const run = await runCli(['sign', ...pemKey(), ...noTimestamp, file]);
    expect(run.stderr).toMatch(
      /warning: timestamping is off .* stop being valid when the signing certificate expires/,
    );
  });

  it('fails the file, untouched, when no timestamp service answers', async () => {
    const file = await copy('pe32.dll');
    const before = await readFile(file);
    const run = await runCli(['sign', ...pemKey(), '--timestamp-rfc3161', 'http://127.0.0.1:9/a', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no timestamp service answered \(http:\/\/127\.0\.0\.1:9\/a: /);
    expect((await readFile(file)).equals(before)).toBe(true);
  });
});
