import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fromDer } from '../src/authenticode/der.js';
import { OID } from '../src/authenticode/oids.js';
import { AuthenticodeSignature } from '../src/authenticode/signature.js';
import { requestTimestamp } from '../src/authenticode/timestamp-client.js';
import { openSignable } from '../src/formats/open-file.js';
import { saveSignedFile } from '../src/io/save-signed-file.js';
import { calculatedDigests, osslSign, osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
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

async function copies(label: string): Promise<string[]> {
  const dir = await scratchDir(label);
  return Promise.all(fixtures.map((f) => copyFixture(f, dir)));
}

describe.each([
  ['RSA', 'rsa'],
  ['ECDSA', 'ec'],
] as [string, 'rsa' | 'ec'][])('%s signatures on every fixture', (_label, leaf) => {
  it.each([
    ['without a timestamp', false],
    ['with an RFC 3161 timestamp from openssl ts', true],
  ])('are accepted by osslsigncode and sbverify, %s', async (_how, timestamped) => {
    const files = await copies(`matrix-${leaf}`);
    const { cert } = pki.leaves[leaf];
    const sign = await runCli([
      'sign',
      ...keyFlags(pki, leaf),
      '--timestamp-rfc3161',
      timestamped ? tsa.url : 'none',
      ...files,
    ]);
    expect(sign.stderr.split('\n').filter((l) => l.startsWith('failed'))).toEqual([]);
    expect(sign.code).toBe(0);
    expect(sign.stdout).toContain(`${files.length} signed, 0 skipped, 0 failed`);

    for (const file of files) {
      const verdict = await osslVerify(file, pki.rootCa);
      expect({ file, ok: verdict.ok, verified: verdict.verified }).toEqual({ file, ok: true, verified: 1 });
      expect(verdict.output).toMatch(
        timestamped ? /Timestamp Server Signature verification: ok/ : /Timestamp is not available/,
      );
    }
    const sbverify = await import('node:child_process').then(({ execFileSync }) =>
      files.map((f) => execFileSync('sbverify', ['--cert', cert, f], { encoding: 'utf8', stdio: 'pipe' })),
    );
    expect(sbverify.every((out) => out.includes('Signature verification OK'))).toBe(true);

    const verify = await runCli(['verify', '--ca-file', pki.rootCa, ...files]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain(`${files.length} valid, 0 failed`);
    expect(verify.stdout).toMatch(timestamped ? /timestamp \d{4}-\d\d-\d\dT/ : /no timestamp/);
  });
});

describe('differential checks against osslsigncode', () => {
  it('computes the same Authenticode digest as osslsigncode for every fixture', async () => {
    const dir = await scratchDir('digest');
    for (const fixture of fixtures) {
      const opened = await openSignable(fixture.path);
      const ours = (await opened.file.indirectData('sha256')).digest.toString('hex');
      await opened.close();
      const signed = join(dir, fixture.name);
      await osslSign(fixture.path, signed, { cert: pki.leaves.rsa.chain, key: pki.leaves.rsa.key });
      expect({
        fixture: fixture.name,
        digest: calculatedDigests((await osslVerify(signed, pki.rootCa)).output)[0],
      }).toEqual({
        fixture: fixture.name,
        digest: ours,
      });
    }
  });

  it('accepts files signed by osslsigncode, and rejects a tampered byte and a wrong root', async () => {
    const dir = await scratchDir('foreign');
    const signed: string[] = [];
    for (const [i, fixture] of fixtures.slice(0, 4).entries()) {
      const out = join(dir, fixture.name);
      const leaf = i % 2 ? pki.leaves.ec : pki.leaves.rsa;
      await osslSign(fixture.path, out, {
        cert: leaf.chain,
        key: leaf.key,
        timestampUrl: i < 2 ? tsa.url : undefined,
      });
      signed.push(out);
    }
    const good = await runCli(['verify', '--ca-file', pki.rootCa, ...signed]);
    expect(good.stdout).toContain('4 valid, 0 failed');
    expect(good.code).toBe(0);

    const wrongRoot = await runCli(['verify', '--ca-file', pki.otherRoot, signed[0]]);
    expect(wrongRoot.code).toBe(1);
    expect(wrongRoot.stderr).toMatch(/does not chain to a trusted root/);

    const bytes = await readFile(signed[1]);
    bytes[0x400 + 16] ^= 0xff; // inside the first section
    const tampered = join(dir, 'tampered.exe');
    await import('node:fs/promises').then(({ writeFile }) => writeFile(tampered, bytes));
    const bad = await runCli(['verify', '--ca-file', pki.rootCa, tampered]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/file digest does not match/);
  });

  it('rejects a signature whose timestamp is for other data', async () => {
    const dir = await scratchDir('bad-timestamp');
    const file = await copyFixture(fixtures[0], dir);
    await runCli(['sign', ...keyFlags(pki), '--timestamp-rfc3161', tsa.url, file]);
    const opened = await openSignable(file);
    const signature = AuthenticodeSignature.fromDer(opened.file.signature!);
    const foreign = await requestTimestamp(Buffer.from('some other signature'), {
      urls: [tsa.url],
      hash: 'sha256',
    });
    signature.signerInfo.unsignedAttrs!.attributes = [];
    signature.addUnsignedValue(OID.rfc3161Timestamp, fromDer(foreign.token, 'token'));
    await saveSignedFile(file, await opened.file.signatureEdit(signature.toDer()), opened.state);
    await opened.close();

    const run = await runCli(['verify', '--ca-file', pki.rootCa, file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /timestamp present but invalid: the timestamp is for other data \(message imprint mismatch\) — INVALID: its timestamp is invalid/,
    );
    // osslsigncode flags the timestamp but still passes the file on the certificate's current validity.
    expect((await osslVerify(file, pki.rootCa)).output).toMatch(
      /Timestamp Server Signature verification: failed/,
    );
  });
});
