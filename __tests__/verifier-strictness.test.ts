import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createSignature } from '../src/authenticode/create-signature.js';
import { openSignable } from '../src/formats/open-file.js';
import { saveSignedFile } from '../src/io/save-signed-file.js';
import { loadLocalSigner } from '../src/signers/local-signer.js';
import { startLegacyTsaServer, type LegacyTsaServer } from '../test/legacy-tsa-server.js';
import { osslSign, osslVerify } from '../test/osslsigncode.js';
import { certificateTable, fixChecksum, peFields, withCertificateTable } from '../test/pe-bytes.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';

const run = promisify(execFile);

let pki: TestPki;
let fixtures: PeFixture[];
let legacyTsa: LegacyTsaServer;
let badLegacyTsa: LegacyTsaServer;
let noEkuLegacyTsa: LegacyTsaServer;

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  const tsa = { cert: pki.tsaCert, key: pki.tsaKey, certfile: pki.intermediateCa };
  [legacyTsa, badLegacyTsa, noEkuLegacyTsa] = await Promise.all([
    startLegacyTsaServer(tsa),
    startLegacyTsaServer({ ...tsa, mode: 'other-data' }),
    startLegacyTsaServer({ ...tsa, ...pki.tsaWithoutEku }),
  ]);
});
afterAll(async () => {
  await Promise.all([legacyTsa, badLegacyTsa, noEkuLegacyTsa].map((s) => s?.close()));
});

/** vaultsign verify and osslsigncode verify on one file. */
async function bothVerdicts(file: string): Promise<{ ours: boolean; ossl: boolean; text: string }> {
  const [ours, ossl] = await Promise.all([
    runCli(['verify', '--ca-file', pki.rootCa, file]),
    osslVerify(file, pki.rootCa),
  ]);
  return { ours: ours.code === 0, ossl: ossl.ok, text: ours.stdout + ours.stderr };
}

const noTimestamp = ['--timestamp-rfc3161', 'none'];

async function signedCopy(label: string, fixture = fixtures[0]): Promise<string> {
  const dir = await scratchDir(label);
  const file = await copyFixture(fixture, dir);
  const sign = await runCli(['sign', ...keyFlags(pki), ...noTimestamp, file]);
  expect(sign.code).toBe(0);
  return file;
}

/** A WIN_CERTIFICATE entry (revision 2.0, PKCS_SIGNED_DATA) of `size` bytes with `der` at its start. */
function entry(der: Buffer, size: number): Buffer {
  const out = Buffer.alloc(size);
  out.writeUInt32LE(size, 0);
  out.writeUInt32LE(0x00020200, 4);
  der.copy(out, 8);
  return out;
}

describe('the certificate table is read exactly as written', () => {
  const table = async (file: string) => {
    const bytes = await readFile(file);
    const { offset, size } = certificateTable(bytes);
    return { bytes, table: Buffer.from(bytes.subarray(offset, offset + size)) };
  };
  /** The signature DER in a table we wrote: a SEQUENCE with a two-byte length. */
  const der = (t: Buffer) => t.subarray(8, 8 + t.readUInt16BE(10) + 4);

  it.each([
    [
      '8 stray bytes after the last entry',
      (t: Buffer) => Buffer.concat([t, Buffer.from('EXTRA!!!')]),
      /entry at offset \d+ has (length|revision)/,
      'rejects',
    ],
    [
      '16 zero bytes after the last entry',
      (t: Buffer) => Buffer.concat([t, Buffer.alloc(16)]),
      /length 0/,
      'rejects',
    ],
    ['revision 0x0100', (t: Buffer) => (t.writeUInt16LE(0x0100, 4), t), /revision 0x100/, 'rejects'],
    [
      'certificate type 1 (X.509)',
      (t: Buffer) => (t.writeUInt16LE(1, 6), t),
      /type 1, not PKCS_SIGNED_DATA/,
      'rejects',
    ],
    [
      'a signature whose outer DER length overruns into the zero padding',
      (t: Buffer) => {
        const body = der(t);
        const out = entry(body, (8 + body.length + 2 + 7) & ~7);
        out.writeUInt16BE(body.length - 4 + 2, 10);
        return out;
      },
      /canonical DER|not valid DER/,
      'rejects',
    ],
    [
      'non-zero bytes after the signature inside its entry',
      (t: Buffer) => {
        const body = der(t);
        const out = entry(body, ((8 + body.length + 7) & ~7) + 8);
        out.write('hidden', 8 + body.length);
        return out;
      },
      /bytes follow the signature/,
      // osslsigncode 2.9 reads one DER value and ignores the rest; Windows refuses such bytes with the
      // CVE-2013-3900 padding check. We take the stricter side.
      'accepts',
    ],
  ] as [string, (t: Buffer) => Buffer, RegExp, 'accepts' | 'rejects'][])(
    'refuses %s',
    async (_case, mutate, why, osslsigncode) => {
      const file = await signedCopy('table');
      const original = await table(file);
      expect(original.table.readUInt16BE(8)).toBe(0x3082);
      await writeFile(file, withCertificateTable(original.bytes, mutate(original.table)));
      const verdicts = await bothVerdicts(file);
      expect({ ours: verdicts.ours, ossl: verdicts.ossl }).toEqual({
        ours: false,
        ossl: osslsigncode === 'accepts',
      });
      expect(verdicts.text).toMatch(why);
    },
  );

  it('--skip-signed fails a file whose signature does not parse, and leaves it untouched', async () => {
    const file = await signedCopy('skip-signed');
    const { bytes, table: t } = await table(file);
    t[8 + 40] ^= 0xff; // inside the SignedData: the table is sound, the CMS is not
    const damaged = withCertificateTable(bytes, t);
    await writeFile(file, damaged);
    const sign = await runCli(['sign', ...keyFlags(pki), ...noTimestamp, '--skip-signed', file]);
    expect(sign.code).toBe(1);
    expect(sign.stderr).toMatch(/existing signature cannot be read .*sign without skip-signed to replace it/);
    expect((await readFile(file)).equals(damaged)).toBe(true);
    // A sound signature is still skipped.
    const sound = await signedCopy('skip-signed-ok');
    const before = await readFile(sound);
    const skip = await runCli(['sign', ...keyFlags(pki), ...noTimestamp, '--skip-signed', sound]);
    expect(skip.stdout).toMatch(/skipped .*already signed/);
    expect((await readFile(sound)).equals(before)).toBe(true);
  });
});

describe('extended key usage along the chain', () => {
  /** An intermediate CA under the test root with the given EKU, and an RSA code-signing leaf under it. */
  async function chainWithIntermediateEku(
    eku: string,
    leafEku = 'codeSigning',
  ): Promise<{ chain: string; key: string; leaf: string; ca: string }> {
    const dir = await scratchDir('eku');
    const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
    await writeFile(
      join(dir, 'ext.cnf'),
      [
        '[req]',
        'distinguished_name = dn',
        '[dn]',
        '[ca]',
        'basicConstraints = critical, CA:TRUE',
        'keyUsage = critical, keyCertSign',
        `extendedKeyUsage = ${eku}`,
        '[leaf]',
        'basicConstraints = CA:FALSE',
        'keyUsage = critical, digitalSignature',
        `extendedKeyUsage = ${leafEku}`,
        '',
      ].join('\n'),
    );
    const issue = async (name: string, caCert: string, caKey: string, section: string) => {
      const subject = `/CN=${name} under ${eku}`;
      await openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject, '-config', 'ext.cnf'); // prettier-ignore
      await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-days', '30', '-extfile', 'ext.cnf', '-extensions', section, '-out', `${name}.pem`); // prettier-ignore
    };
    await issue('ca', pki.rootCa, pki.rootKey, 'ca');
    await issue('leaf', 'ca.pem', 'ca.key', 'leaf');
    const chain = join(dir, 'chain.pem');
    const pems = await Promise.all(['leaf.pem', 'ca.pem'].map((f) => readFile(join(dir, f), 'utf8')));
    await writeFile(chain, pems.join(''));
    return { chain, key: join(dir, 'leaf.key'), leaf: join(dir, 'leaf.pem'), ca: join(dir, 'ca.pem') };
  }

  it.each([
    ['serverAuth', false],
    ['serverAuth, codeSigning', true],
    ['anyExtendedKeyUsage', true],
  ])('an intermediate with extended key usage %s: valid %s', async (eku, valid) => {
    const { chain, key } = await chainWithIntermediateEku(eku);
    const dir = await scratchDir('eku-file');
    const file = join(dir, fixtures[0].name);
    await osslSign(fixtures[0].path, file, { cert: chain, key });
    const verdicts = await bothVerdicts(file);
    // Windows refuses a leaf under a CA whose extended key usage excludes code signing; osslsigncode 2.9
    // checks only the leaf's. We follow Windows, and never accept what osslsigncode refuses.
    expect(verdicts.ours).toBe(valid);
    if (!verdicts.ossl) expect(verdicts.ours).toBe(false);
    if (!valid) {
      expect(verdicts.text).toMatch(
        /does not allow this use \(extended key usage 1\.3\.6\.1\.5\.5\.7\.3\.3 missing\)/,
      );
    }
  });

  it('a timestamp signer under a CA whose extended key usage excludes time stamping: timestamp invalid', async () => {
    const tsa = await chainWithIntermediateEku('codeSigning', 'timeStamping');
    const server = await startLegacyTsaServer({ cert: tsa.leaf, key: tsa.key, certfile: tsa.ca });
    try {
      const dir = await scratchDir('eku-tsa');
      const file = join(dir, fixtures[0].name);
      const { chain: cert, key } = pki.leaves.rsa;
      await osslSign(fixtures[0].path, file, { cert, key, hash: 'sha1', legacyTimestampUrl: server.url });
      const ours = await runCli(['verify', '--ca-file', pki.rootCa, file]);
      expect(ours.code).toBe(1);
      expect(ours.stderr).toMatch(
        /timestamp present but invalid: the certificate "ca under codeSigning" does not allow this use \(extended key usage 1\.3\.6\.1\.5\.5\.7\.3\.8 or 1\.3\.6\.1\.4\.1\.311\.10\.3\.2 missing\)/,
      );
    } finally {
      await server.close();
    }
  });
});

describe('legacy (Authenticode, pre-RFC 3161) countersignature timestamps', () => {
  const signLegacy = async (hash: string, server: LegacyTsaServer) => {
    const dir = await scratchDir('legacy');
    const file = join(dir, fixtures[1].name);
    const { chain: cert, key } = pki.leaves.rsa;
    await osslSign(fixtures[1].path, file, { cert, key, hash, legacyTimestampUrl: server.url });
    return file;
  };

  it.each(['sha1', 'sha256'])(
    'a %s signature timestamped by osslsigncode -t is valid at its timestamp',
    async (hash) => {
      const file = await signLegacy(hash, legacyTsa);
      const ossl = await osslVerify(file, pki.rootCa);
      expect(ossl.ok).toBe(true);
      expect(ossl.output).toMatch(/Timestamp Server Signature verification: ok/);
      const ours = await runCli(['verify', '--ca-file', pki.rootCa, file]);
      expect(ours.stdout).toMatch(new RegExp(`${hash}, timestamp \\d{4}-\\d\\d-\\d\\dT[^,]*Z — valid`));
      expect(ours.code).toBe(0);
    },
  );

  it.each([
    [
      'over other data',
      () => badLegacyTsa,
      /timestamp present but invalid: it is for other data \(messageDigest mismatch\) — INVALID: its timestamp is invalid/,
      true,
    ],
    [
      'by a certificate without time-stamping usage',
      () => noEkuLegacyTsa,
      /timestamp present but invalid: its signer .* is not a time-stamping certificate/,
      // osslsigncode 2.9 does not check the countersigner's usage; Windows requires it, and so do we.
      false,
    ],
  ] as [string, () => LegacyTsaServer, RegExp, boolean][])(
    'a countersignature %s is reported present but invalid',
    async (_case, server, why, osslFails) => {
      const file = await signLegacy('sha1', server());
      const ossl = await osslVerify(file, pki.rootCa);
      if (osslFails) expect(ossl.output).toMatch(/Timestamp Server Signature verification: failed/);
      const ours = await runCli(['verify', '--ca-file', pki.rootCa, file]);
      expect(ours.code).toBe(1);
      expect(ours.stderr).toMatch(why);
      expect(ours.stderr).not.toMatch(/no timestamp/);
    },
  );
});

describe('page hashes', () => {
  it('a page-hashed file verifies; one whose page hashes alone do not match is invalid for both verifiers', async () => {
    const dir = await scratchDir('page-hashes');
    const good = await copyFixture(fixtures[3], dir, 'good.exe');
    const sign = await runCli(['sign', ...keyFlags(pki), ...noTimestamp, '--generate-page-hashes', good]);
    expect(sign.code).toBe(0);
    expect(await bothVerdicts(good)).toMatchObject({ ours: true, ossl: true });

    // Page hashes of a copy with one byte changed in its first section, under the digest of the original.
    const file = await copyFixture(fixtures[3], dir, 'mismatch.exe');
    const other = await copyFixture(fixtures[3], dir, 'other.exe');
    const otherBytes = await readFile(other);
    const { sectionTable } = peFields(otherBytes);
    otherBytes[otherBytes.readUInt32LE(sectionTable + 20) + 100] ^= 0xff;
    await writeFile(other, otherBytes);
    const signer = await loadLocalSigner({
      certificateFile: pki.leaves.rsa.chain,
      privateKeyFile: pki.leaves.rsa.key,
    });
    const foreign = await openSignable(other);
    const opened = await openSignable(file);
    const pageHashed = await foreign.file.indirectData('sha256', { pageHashes: true });
    const genuine = await opened.file.indirectData('sha256');
    const { signature } = await createSignature({ ...genuine, value: pageHashed.value }, signer);
    await saveSignedFile(file, await opened.file.signatureEdit(signature.toDer()), opened.state);
    await Promise.all([foreign.close(), opened.close()]);

    const verdicts = await bothVerdicts(file);
    expect({ ours: verdicts.ours, ossl: verdicts.ossl }).toEqual({ ours: false, ossl: false });
    expect(verdicts.text).toMatch(/the page hashes do not match the file/);
    expect(verdicts.text).not.toMatch(/file digest does not match/);
  });

  it('refuses page hashes for a file whose first section covers the headers, and leaves it untouched', async () => {
    const dir = await scratchDir('page-hashes-headers');
    const file = await copyFixture(fixtures[0], dir);
    const bytes = await readFile(file);
    const { sectionTable } = peFields(bytes);
    const rawSize = bytes.readUInt32LE(sectionTable + 16);
    const rawOffset = bytes.readUInt32LE(sectionTable + 20);
    bytes.writeUInt32LE(rawOffset + rawSize, sectionTable + 16);
    bytes.writeUInt32LE(0, sectionTable + 20);
    fixChecksum(bytes);
    await writeFile(file, bytes);
    const refused = await runCli(['sign', ...keyFlags(pki), ...noTimestamp, '--generate-page-hashes', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /cannot add page hashes: a section's raw data \(offset 0\) covers the PE headers/,
    );
    expect((await readFile(file)).equals(bytes)).toBe(true);
    // Without page hashes the same file signs and verifies everywhere.
    const plain = await runCli(['sign', ...keyFlags(pki), ...noTimestamp, file]);
    expect(plain.code).toBe(0);
    expect(await bothVerdicts(file)).toMatchObject({ ours: true, ossl: true });
  });
});
