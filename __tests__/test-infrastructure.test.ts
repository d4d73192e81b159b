import { createHash, X509Certificate } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { calculatedDigests, osslCalculatedDigest, osslSign, osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { startTsaServer } from '../test/tsa-server.js';

const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

const fixture = (name: string) => fixtures.find((f) => f.name === name)!;

/** Where the image ends: the end of the section whose raw data reaches furthest. */
function imageEnd(bytes: Buffer): number {
  const pe = bytes.readUInt32LE(0x3c);
  const sections = pe + 24 + bytes.readUInt16LE(pe + 20);
  let end = 0;
  for (let i = 0; i < bytes.readUInt16LE(pe + 6); i++) {
    const header = sections + 40 * i;
    end = Math.max(end, bytes.readUInt32LE(header + 20) + bytes.readUInt32LE(header + 16));
  }
  return end;
}

/** The Authenticode SHA-256 of an unsigned PE, straight from the spec, to check osslCalculatedDigest by. */
function unsignedDigest(bytes: Buffer): string {
  const pe = bytes.readUInt32LE(0x3c);
  const certEntry = pe + (bytes.readUInt16LE(pe + 24) === 0x20b ? 168 : 152);
  return createHash('sha256')
    .update(bytes.subarray(0, pe + 88))
    .update(bytes.subarray(pe + 92, certEntry))
    .update(bytes.subarray(certEntry + 8))
    .update(Buffer.alloc((8 - (bytes.length % 8)) % 8))
    .digest('hex');
}

describe('PE fixtures', () => {
  it('are PE32 and PE32+ executables and libraries', async () => {
    expect(fixtures.map((f) => `${f.bits}-${f.kind}`).sort()).toEqual(
      ['32-dll', '32-exe', '64-dll', '64-exe'].flatMap((kind) => [kind, kind, kind]),
    );
    for (const f of fixtures) {
      const bytes = await readFile(f.path);
      expect(bytes.subarray(0, 2).toString('latin1')).toBe('MZ');
      const pe = bytes.readUInt32LE(0x3c);
      expect(bytes.subarray(pe, pe + 4)).toEqual(Buffer.from('PE\0\0', 'latin1'));
      expect(bytes.readUInt16LE(pe + 24)).toBe(f.bits === 64 ? 0x20b : 0x10b);
      expect(bytes.readUInt16LE(pe + 4)).toBe(f.bits === 64 ? 0x8664 : 0x14c);
      expect(!!(bytes.readUInt16LE(pe + 22) & 0x2000)).toBe(f.kind === 'dll');
    }
  });

  it('carry exactly the overlay they claim, after the last section', async () => {
    for (const f of fixtures) {
      const bytes = await readFile(f.path);
      const plain = await readFile(fixture(`pe${f.bits}.${f.kind}`).path);
      expect(imageEnd(bytes)).toBe(plain.length);
      expect(bytes.length).toBe(plain.length + f.overlay);
      expect(plain.equals(bytes.subarray(0, plain.length))).toBe(true);
    }
    expect(new Set(fixtures.map((f) => f.overlay))).toEqual(new Set([0, 4096, 1001]));
    // The unsigned-file padding case: some fixtures do not end on a multiple of 8.
    const unaligned = await Promise.all(fixtures.map(async (f) => (await readFile(f.path)).length % 8 !== 0));
    expect(unaligned).toContain(true);
  });

  it('are reused, and copies are independent of them', async () => {
    const built = (await stat(fixture('pe32.dll').path)).mtimeMs;
    await ensurePeFixtures();
    expect((await stat(fixture('pe32.dll').path)).mtimeMs).toBe(built);
    const copy = await copyFixture(fixture('pe32.dll'), await scratchDir('infra-copy'));
    expect(copy).not.toBe(fixture('pe32.dll').path);
    expect((await readFile(copy)).equals(await readFile(fixture('pe32.dll').path))).toBe(true);
  });
});

describe('test PKI', () => {
  const load = async (path: string) => new X509Certificate(await readFile(path));

  it('chains every code-signing leaf and the TSA to the root, with the right usages', async () => {
    const root = await load(pki.rootCa);
    const intermediate = await load(pki.intermediateCa);
    expect(root.ca && intermediate.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(intermediate.verify(root.publicKey)).toBe(true);
    expect(intermediate.verify((await load(pki.otherRoot)).publicKey)).toBe(false);
    for (const leaf of Object.values(pki.leaves)) {
      const cert = await load(leaf.cert);
      expect(cert.ca).toBe(false);
      expect(cert.verify(intermediate.publicKey)).toBe(true);
      expect(cert.keyUsage).toEqual([CODE_SIGNING]);
      // The chain file is the leaf, then its issuer.
      const chain = (await readFile(leaf.chain, 'utf8')).match(/-----BEGIN CERTIFICATE-----[^-]+/g)!;
      expect(chain.map((pem) => new X509Certificate(`${pem}-----END CERTIFICATE-----`).serialNumber)).toEqual(
        [cert.serialNumber, intermediate.serialNumber],
      );
    }
    const tsa = await load(pki.tsaCert);
    expect(tsa.verify(intermediate.publicKey)).toBe(true);
    expect(tsa.keyUsage).toEqual([TIME_STAMPING]);
  });

  it('holds keys in the formats the names promise', async () => {
    const pem = async (path: string) => (await readFile(path, 'utf8')).split('\n')[0];
    expect(await pem(pki.leaves.rsa.key)).toBe('-----BEGIN PRIVATE KEY-----');
    expect(await pem(pki.leaves.ec.key)).toBe('-----BEGIN PRIVATE KEY-----');
    expect(await pem(pki.rsaPkcs1Key)).toBe('-----BEGIN RSA PRIVATE KEY-----');
    expect(await pem(pki.ecSec1Key)).toBe('-----BEGIN EC PRIVATE KEY-----');
    const details = async (name: keyof TestPki['leaves']) =>
      (await load(pki.leaves[name].cert)).publicKey.asymmetricKeyDetails;
    expect(await details('rsa')).toMatchObject({ modulusLength: 2048 });
    expect(await details('rsa4096')).toMatchObject({ modulusLength: 4096 });
    expect(await details('ec')).toMatchObject({ namedCurve: 'prime256v1' });
    expect(await details('ec384')).toMatchObject({ namedCurve: 'secp384r1' });
  });
});

describe('osslsigncode helpers', () => {
  it('sign and verify with the test PKI, and refuse an unrelated root', async () => {
    const input = await copyFixture(fixture('pe64.exe'), await scratchDir('infra'));
    await osslSign(input, `${input}.signed`, { cert: pki.leaves.rsa.chain, key: pki.leaves.rsa.key });
    const verdict = await osslVerify(`${input}.signed`, pki.rootCa);
    expect(verdict.output).toContain('Signature verification: ok');
    expect(verdict).toMatchObject({ ok: true, verified: 1 });
    expect((await osslVerify(`${input}.signed`, pki.otherRoot)).ok).toBe(false);
    expect((await osslVerify(input, pki.rootCa)).ok).toBe(false);

    // A wrong PE checksum is only a warning to osslsigncode; osslVerify must still fail it.
    const bytes = await readFile(`${input}.signed`);
    bytes[bytes.readUInt32LE(0x3c) + 24 + 64] ^= 1;
    await writeFile(`${input}.bad-checksum`, bytes);
    expect((await osslVerify(`${input}.bad-checksum`, pki.rootCa)).ok).toBe(false);
  });

  it('timestamp through the openssl ts responder and check it against the TSA root', async () => {
    const tsa = await startTsaServer({ configFile: pki.tsaConfig });
    try {
      const input = await copyFixture(fixture('pe32-overlay1001.dll'), await scratchDir('infra-ts'));
      await osslSign(input, `${input}.signed`, {
        cert: pki.leaves.ec.chain,
        key: pki.leaves.ec.key,
        timestampUrl: tsa.url,
      });
      expect(tsa.requests).toBe(1);
      const verdict = await osslVerify(`${input}.signed`, pki.rootCa);
      expect(verdict.output).toContain('Timestamp Server Signature verification: ok');
      expect(verdict.ok).toBe(true);
      expect((await osslVerify(`${input}.signed`, pki.rootCa, pki.otherRoot)).ok).toBe(false);
    } finally {
      await tsa.close();
    }
  });

  it('report the digest of an unsigned file, padding included', async () => {
    for (const name of ['pe32.exe', 'pe64-overlay1001.dll']) {
      const bytes = await readFile(fixture(name).path);
      expect(await osslCalculatedDigest(fixture(name).path)).toBe(unsignedDigest(bytes));
    }
    const sha384 = await osslCalculatedDigest(fixture('pe32.exe').path, 'sha384');
    expect(sha384).toMatch(/^[0-9a-f]{96}$/);
    expect(calculatedDigests('Calculated message digest : 0A1B \n')).toEqual(['0a1b']);
  });
});
