import { spawn } from 'node:child_process';
import { watch } from 'node:fs';
import { copyFile, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HashAlgorithm } from '../src/authenticode/algorithms.js';
import { createSignature } from '../src/authenticode/create-signature.js';
import { derLength } from '../src/authenticode/der.js';
import { AuthenticodeSignature } from '../src/authenticode/signature.js';
import { SPC_CAB_DATA } from '../src/formats/cab/cab-data.js';
import { encodePeImageData, SPC_PE_IMAGE_DATA } from '../src/formats/pe/image-data.js';
import { saveSignedFile } from '../src/io/save-signed-file.js';
import { loadLocalSigner } from '../src/signers/local-signer.js';
import { openSignable } from '../src/formats/open-file.js';
import { parseNewFileName } from '../src/io/sidecar-files.js';
import { ensureCabFixtures, extractCab, listCab, type CabFixture } from '../test/cab-fixtures.js';
import { calculatedDigests, extractSignature, osslSign, osslVerify } from '../test/osslsigncode.js';
import { scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type LeafName, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';
import { shippedDist } from '../test/shipped-dist.js';
import { fillUntil, mountTmpfs, tmpfsAvailable } from '../test/tmpfs.js';
import { startTsaServer, type TsaServer } from '../test/tsa-server.js';

let pki: TestPki;
let fixtures: CabFixture[];
let tsa: TsaServer;
/** What gcab lists and extracts from each unsigned fixture. */
const original = new Map<string, { list: string[]; files: Map<string, Buffer> }>();

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensureCabFixtures()]);
  tsa = await startTsaServer({ configFile: pki.tsaConfig });
  for (const fixture of fixtures)
    original.set(fixture.name, { list: await listCab(fixture.path), files: await extractCab(fixture.path) });
});
afterAll(() => tsa.close());

const fixture = (name: string) => fixtures.find((f) => f.name === name)!;

async function copyCab(f: CabFixture, dir: string, name = f.name): Promise<string> {
  const path = join(dir, name);
  await copyFile(f.path, path);
  return path;
}

async function ourDigest(path: string, hash: HashAlgorithm = 'sha256'): Promise<string> {
  const opened = await openSignable(path);
  try {
    return (await opened.file.indirectData(hash)).digest.toString('hex');
  } finally {
    await opened.close();
  }
}

/** Signs with the CLI and a local key; returns the run. */
function sign(files: string[], leaf: LeafName = 'rsa', ...flags: string[]) {
  return runCli(['sign', ...keyFlags(pki, leaf), '--timestamp-rfc3161', 'none', ...flags, ...files]);
}

const signerOf = (leaf: LeafName) => `vaultsign test signer ${leaf}`;

/** The cabinet's content as gcab sees it is the fixture's: same listing, same files, same bytes. */
async function expectSameContent(path: string, f: CabFixture): Promise<void> {
  const before = original.get(f.name)!;
  expect({ path, list: await listCab(path) }).toEqual({ path, list: before.list });
  const after = await extractCab(path);
  expect([...after.keys()].sort()).toEqual([...before.files.keys()].sort());
  for (const [name, bytes] of before.files)
    expect({ name, same: after.get(name)?.equals(bytes) }).toEqual({ name, same: true });
}

/** A copy of `f` made to name a next cabinet (flag 0x0002): the names go after the header, the rest moves. */
function withNextCabinet(bytes: Buffer): Buffer {
  const names = Buffer.from('part2.cab\0disk 2\0', 'latin1');
  const out = Buffer.concat([bytes.subarray(0, 36), names, bytes.subarray(36)]);
  out.writeUInt32LE(out.readUInt32LE(8) + names.length, 8);
  out.writeUInt32LE(out.readUInt32LE(16) + names.length, 16);
  out.writeUInt16LE(out.readUInt16LE(30) | 0x0002, 30);
  for (let i = 0; i < out.readUInt16LE(26); i++) {
    const at = 36 + names.length + 8 * i;
    out.writeUInt32LE(out.readUInt32LE(at) + names.length, at);
  }
  return out;
}

describe('fixtures', () => {
  it('are the cabinets they claim: members, MSZIP compression, a size past the 4 MiB read chunk, built once', async () => {
    const compression = new Map<string, number>();
    for (const f of fixtures) {
      const bytes = await readFile(f.path);
      expect(bytes.subarray(0, 4).toString('latin1')).toBe('MSCF');
      expect({
        file: f.name,
        listed: original.get(f.name)!.list.length,
        extracted: original.get(f.name)!.files.size,
      }).toEqual({
        file: f.name,
        listed: f.members.length,
        extracted: f.members.length,
      });
      // The first folder's typeCompress (0 none, 1 MSZIP).
      compression.set(f.name, bytes.readUInt16LE(36 + 6));
    }
    expect(Object.fromEntries(compression)).toEqual({
      'one.cab': 0,
      'many.cab': 0,
      'compressed.cab': 1,
      'large.cab': 0,
    });
    expect((await readFile(fixture('large.cab').path)).length).toBeGreaterThan(8 << 20);
    const built = await Promise.all(fixtures.map(async (f) => (await stat(f.path)).mtimeMs));
    const again = await ensureCabFixtures();
    expect(await Promise.all(again.map(async (f) => (await stat(f.path)).mtimeMs))).toEqual(built);
  });
});

describe('digest against osslsigncode', () => {
  it("equals osslsigncode's calculated digest for every fixture and digest, unsigned and signed", async () => {
    const dir = await scratchDir('cab-digest');
    for (const f of fixtures) {
      for (const hash of ['sha256', 'sha384', 'sha512'] as const) {
        const unsigned = await ourDigest(f.path, hash);
        const signed = join(dir, `${hash}-${f.name}`);
        await osslSign(f.path, signed, { cert: pki.leaves.rsa.chain, key: pki.leaves.rsa.key, hash });
        const verdict = await osslVerify(signed, pki.rootCa);
        expect({ file: f.name, hash, ok: verdict.ok }).toEqual({ file: f.name, hash, ok: true });
        const [calculated] = calculatedDigests(verdict.output);
        expect({ file: f.name, hash, unsigned, signed: await ourDigest(signed, hash) }).toEqual({
          file: f.name,
          hash,
          unsigned: calculated,
          signed: calculated,
        });
      }
    }
  });

  it('hashes the next-cabinet names of the first cabinet of a set, as osslsigncode verify does', async () => {
    const dir = await scratchDir('cab-next');
    const path = join(dir, 'first-of-set.cab');
    await writeFile(path, withNextCabinet(await readFile(fixture('many.cab').path)));
    const run = await sign([path]);
    expect(run.code).toBe(0);
    const verdict = await osslVerify(path, pki.rootCa);
    expect(verdict.ok).toBe(true);
    expect(calculatedDigests(verdict.output)).toEqual([await ourDigest(path)]);
    expect(await listCab(path)).toEqual(original.get('many.cab')!.list);
  });
});

describe('cabinets signed by vaultsign', () => {
  it.each([
    ['rsa', 'sha256'],
    ['rsa', 'sha384'],
    ['rsa', 'sha512'],
    ['ec', 'sha256'],
    ['ec', 'sha384'],
    ['ec', 'sha512'],
  ] as [LeafName, HashAlgorithm][])(
    '%s, %s, timestamped: pass osslsigncode verify and vaultsign verify; gcab lists and extracts the same files',
    async (leaf, hash) => {
      const dir = await scratchDir(`cab-${leaf}-${hash}`);
      const files = await Promise.all(fixtures.map((f) => copyCab(f, dir)));
      const run = await runCli([
        'sign',
        ...keyFlags(pki, leaf),
        '--file-digest',
        hash,
        '--timestamp-rfc3161',
        tsa.url,
        ...files,
      ]);
      expect(run.stderr.split('\n').filter((l) => l.startsWith('failed'))).toEqual([]);
      expect(run.stdout).toContain(`${files.length} signed, 0 skipped, 0 failed`);
      for (const [i, file] of files.entries()) {
        const verdict = await osslVerify(file, pki.rootCa);
        expect({ file, ok: verdict.ok, verified: verdict.verified }).toEqual({ file, ok: true, verified: 1 });
        expect(verdict.output).toMatch(/Timestamp Server Signature verification: ok/);
        expect(verdict.output).toContain(`Message digest algorithm  : ${hash.toUpperCase()}`);
        await expectSameContent(file, fixtures[i]);
      }
      const verify = await runCli(['verify', '--ca-file', pki.rootCa, ...files]);
      expect(verify.stdout).toContain(`${files.length} valid, 0 failed`);
      expect(verify.stdout).toMatch(/timestamp \d{4}-\d\d-\d\dT/);
      expect(verify.code).toBe(0);
    },
  );

  it('writes the header reserve as osslsigncode does: the same first 48 bytes, the blob padded to 8', async () => {
    const dir = await scratchDir('cab-layout');
    for (const f of fixtures) {
      const ours = await copyCab(f, dir, `ours-${f.name}`);
      const theirs = join(dir, `theirs-${f.name}`);
      expect((await sign([ours])).code).toBe(0);
      await osslSign(f.path, theirs, { cert: pki.leaves.rsa.chain, key: pki.leaves.rsa.key });
      const [a, b] = [await readFile(ours), await readFile(theirs)];
      expect(a.subarray(0, 48).equals(b.subarray(0, 48))).toBe(true);
      const [offset, length] = [a.readUInt32LE(44), a.readUInt32LE(48)];
      expect({ file: f.name, offset, length: length % 8, end: offset + length }).toEqual({
        file: f.name,
        offset: (await readFile(f.path)).length + 24,
        length: 0,
        end: a.length,
      });
      // Everything between the header and the signature moved by 24 bytes, unchanged.
      const source = await readFile(f.path);
      const coffFiles = source.readUInt32LE(16);
      expect(a.subarray(coffFiles + 24, offset).equals(source.subarray(coffFiles))).toBe(true);
    }
  });
});

/** The SpcAttributeTypeAndOptionalValue (type and value) of a signature, as DER. */
function indirectDataValue(der: Buffer): Buffer {
  const content = AuthenticodeSignature.fromDer(der).contentBytes;
  return content.subarray(0, derLength(content));
}

describe('indirect data', () => {
  it('is SPC_CAB_DATA with the very bytes osslsigncode writes (an obsolete SpcLink)', async () => {
    const dir = await scratchDir('cab-indirect');
    const ours = await copyCab(fixture('one.cab'), dir, 'ours.cab');
    const theirs = join(dir, 'theirs.cab');
    expect((await sign([ours])).code).toBe(0);
    await osslSign(fixture('one.cab').path, theirs, { cert: pki.leaves.rsa.chain, key: pki.leaves.rsa.key });
    const [a, b] = [await extractSignature(ours), await extractSignature(theirs)];
    expect(indirectDataValue(a).toString('hex')).toBe(indirectDataValue(b).toString('hex'));
    const obsolete = Buffer.from('<<<Obsolete>>>', 'utf16le').swap16().toString('hex');
    // SEQUENCE { OID 1.3.6.1.4.1.311.2.1.25, [2] { [0] "<<<Obsolete>>>" (UTF-16BE) } }
    expect(indirectDataValue(a).toString('hex')).toBe(`302c060a2b060104018237020119a21e801c${obsolete}`);
  });

  it("verifies a signature with jsign's form (SpcPeImageData), and refuses one made for a PE image", async () => {
    const dir = await scratchDir('cab-jsign-form');
    const signer = await loadLocalSigner({
      certificateFile: pki.leaves.rsa.chain,
      privateKeyFile: pki.leaves.rsa.key,
    });
    const forms = { 'jsign-form.cab': SPC_CAB_DATA, 'pe-type.cab': SPC_PE_IMAGE_DATA };
    for (const [name, type] of Object.entries(forms)) {
      const path = await copyCab(fixture('many.cab'), dir, name);
      const opened = await openSignable(path);
      const indirect = await opened.file.indirectData('sha256');
      const { signature } = await createSignature({ ...indirect, type, value: encodePeImageData() }, signer);
      await saveSignedFile(path, await opened.file.signatureEdit(signature.toDer()), opened.state);
      await opened.close();
    }
    const jsignForm = await runCli(['verify', '--ca-file', pki.rootCa, join(dir, 'jsign-form.cab')]);
    expect(jsignForm.stdout).toContain('1 valid, 0 failed');
    expect((await osslVerify(join(dir, 'jsign-form.cab'), pki.rootCa)).ok).toBe(true);
    const peType = await runCli(['verify', '--ca-file', pki.rootCa, join(dir, 'pe-type.cab')]);
    expect(peType.code).toBe(1);
    expect(peType.stderr).toMatch(
      /the signature is not for a cabinet \(content type 1\.3\.6\.1\.4\.1\.311\.2\.1\.15\)/,
    );
  });
});

describe('cabinets signed by osslsigncode', () => {
  it('pass vaultsign verify (RSA and EC, timestamped); a changed byte in the data fails it', async () => {
    const dir = await scratchDir('cab-foreign');
    const signed: string[] = [];
    for (const [i, f] of fixtures.entries()) {
      const out = join(dir, f.name);
      const leaf = pki.leaves[i % 2 ? 'ec' : 'rsa'];
      await osslSign(f.path, out, { cert: leaf.chain, key: leaf.key, timestampUrl: tsa.url });
      signed.push(out);
    }
    const good = await runCli(['verify', '--ca-file', pki.rootCa, ...signed]);
    expect(good.stdout).toContain(`${signed.length} valid, 0 failed`);
    expect(good.code).toBe(0);

    const bytes = await readFile(signed[1]);
    bytes[bytes.readUInt32LE(16) + 40] ^= 0xff; // inside the CFFILE entries / data
    const tampered = join(dir, 'tampered.cab');
    await writeFile(tampered, bytes);
    const bad = await runCli(['verify', '--ca-file', pki.rootCa, tampered]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/file digest does not match/);
  });
});

describe('existing signatures', () => {
  it("re-signing replaces the signature, ours or osslsigncode's", async () => {
    const dir = await scratchDir('cab-replace');
    const ours = await copyCab(fixture('many.cab'), dir);
    expect((await sign([ours], 'rsa')).code).toBe(0);
    const theirs = join(dir, 'by-osslsigncode.cab');
    await osslSign(fixture('compressed.cab').path, theirs, {
      cert: pki.leaves.rsa.chain,
      key: pki.leaves.rsa.key,
    });
    const again = await sign([ours, theirs], 'ec');
    expect(again.stdout).toContain('2 signed, 0 skipped, 0 failed');
    expect(again.stdout).toMatch(/signature replaced/);
    for (const [file, f] of [
      [ours, fixture('many.cab')],
      [theirs, fixture('compressed.cab')],
    ] as const) {
      const verdict = await osslVerify(file, pki.rootCa);
      expect({ file, ok: verdict.ok, verified: verdict.verified }).toEqual({ file, ok: true, verified: 1 });
      const verify = await runCli(['verify', '--ca-file', pki.rootCa, file]);
      expect(verify.stdout).toContain(`signer "${signerOf('ec')}"`);
      expect(verify.stdout).not.toContain(signerOf('rsa'));
      await expectSameContent(file, f);
      // The new signature starts where the old one did: the cabinet data is untouched.
      const bytes = await readFile(file);
      expect(bytes.readUInt32LE(44) + bytes.readUInt32LE(48)).toBe(bytes.length);
      expect(bytes.readUInt32LE(44)).toBe(bytes.readUInt32LE(8));
    }
  });

  it('signs in place a cabinet whose signature was removed but whose reserve stayed', async () => {
    const dir = await scratchDir('cab-emptied');
    const source = await copyCab(fixture('many.cab'), dir, 'source.cab');
    expect((await sign([source])).code).toBe(0);
    const signed = await readFile(source);
    const end = signed.readUInt32LE(44);
    const emptied = {
      // jsign's removal: the reserve's 20 bytes all zero.
      'zeroed-reserve.cab': (b: Buffer) => void b.fill(0, 40, 60),
      // The record kept, no signature in it.
      'empty-record.cab': (b: Buffer) => void b.fill(0, 44, 52),
    };
    for (const [name, edit] of Object.entries(emptied)) {
      const bytes = Buffer.from(signed.subarray(0, end));
      edit(bytes);
      const path = join(dir, name);
      await writeFile(path, bytes);
      const run = await sign([path], 'ec');
      expect({ name, out: run.stdout }).toEqual({ name, out: expect.stringContaining('new signature') });
      const verdict = await osslVerify(path, pki.rootCa);
      expect({ name, ok: verdict.ok, verified: verdict.verified }).toEqual({ name, ok: true, verified: 1 });
      const after = await readFile(path);
      expect({
        name,
        offset: after.readUInt32LE(44),
        start: after.subarray(0, 40).equals(bytes.subarray(0, 40)),
      }).toEqual({
        name,
        offset: end,
        start: true,
      });
      await expectSameContent(path, fixture('many.cab'));
    }
  });

  it('--append-signature nests the new signature under the existing one', async () => {
    const dir = await scratchDir('cab-append');
    const file = await copyCab(fixture('compressed.cab'), dir);
    expect((await sign([file], 'rsa')).code).toBe(0);
    const run = await sign([file], 'ec', '--append-signature');
    expect(run.stdout).toMatch(/appended as a nested signature/);
    const verdict = await osslVerify(file, pki.rootCa);
    expect({ ok: verdict.ok, verified: verdict.verified }).toEqual({ ok: true, verified: 2 });
    const verify = await runCli(['verify', '--ca-file', pki.rootCa, file]);
    expect(verify.stdout).toContain(`signature: signer "${signerOf('rsa')}"`);
    expect(verify.stdout).toContain(`nested signature 1: signer "${signerOf('ec')}"`);
    expect(verify.code).toBe(0);
    await expectSameContent(file, fixture('compressed.cab'));
  });

  it('--skip-signed leaves a signed cabinet byte-identical and signs the unsigned one', async () => {
    const dir = await scratchDir('cab-skip');
    const signed = await copyCab(fixture('one.cab'), dir);
    const unsigned = await copyCab(fixture('many.cab'), dir);
    expect((await sign([signed])).code).toBe(0);
    const before = await readFile(signed);
    const run = await sign([signed, unsigned], 'ec', '--skip-signed');
    expect(run.stdout).toContain('1 signed, 1 skipped, 0 failed');
    expect((await readFile(signed)).equals(before)).toBe(true);
    expect((await osslVerify(unsigned, pki.rootCa)).ok).toBe(true);
  });

  it('a dry run changes no cabinet, signed or not', async () => {
    const dir = await scratchDir('cab-dry');
    const signed = await copyCab(fixture('one.cab'), dir, 'signed.cab');
    const unsigned = await copyCab(fixture('large.cab'), dir);
    expect((await sign([signed])).code).toBe(0);
    const before = [await readFile(signed), await readFile(unsigned)];
    const run = await sign([signed, unsigned], 'ec', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/would be signed: signature replaced/);
    expect(run.stdout).toMatch(/would be signed: new signature/);
    expect((await readFile(signed)).equals(before[0])).toBe(true);
    expect((await readFile(unsigned)).equals(before[1])).toBe(true);
  });
});

describe('bad input', () => {
  it('refuses a damaged or unsupported cabinet with a clear message, and leaves it byte-identical', async () => {
    const dir = await scratchDir('cab-bad');
    const plain = await readFile(fixture('many.cab').path);
    const signedPath = await copyCab(fixture('many.cab'), dir, 'signed-source.cab');
    expect((await sign([signedPath])).code).toBe(0);
    const signed = await readFile(signedPath);
    const cases: [string, Buffer, RegExp][] = [];
    const add = (name: string, from: Buffer, edit: (b: Buffer) => Buffer | void, problem: RegExp) => {
      const bytes = Buffer.from(from);
      cases.push([join(dir, name), edit(bytes) ?? bytes, problem]);
    };
    add(
      'cbcabinet-large.cab',
      plain,
      (b) => void b.writeUInt32LE(b.length + 100, 8),
      /cbCabinet\) but the file has only/,
    );
    add(
      'cbcabinet-small.cab',
      plain,
      (b) => void b.writeUInt32LE(b.length - 100, 8),
      /100 bytes after the cabinet would not be signed/,
    );
    add(
      'appended.cab',
      plain,
      (b) => Buffer.concat([b, Buffer.alloc(10)]),
      /10 bytes after the cabinet would not be signed/,
    );
    add('truncated.cab', plain, (b) => b.subarray(0, b.length - 1000), /it was cut off/);
    add('header-only.cab', plain, (b) => b.subarray(0, 20), /too short for a cabinet \(20 bytes/);
    add(
      'truncated-signed.cab',
      signed,
      (b) => b.subarray(0, b.length - 50),
      /does not end where the file does/,
    );
    add(
      'signature-elsewhere.cab',
      signed,
      (b) => void b.writeUInt32LE(b.readUInt32LE(44) - 8, 44),
      /not at the end of the cabinet data/,
    );
    add(
      'reserve-size.cab',
      signed,
      (b) => void b.writeUInt16LE(24, 36),
      /header reserve is 24 bytes \(cbCFHeader\)/,
    );
    add('folder-reserve.cab', signed, (b) => void (b[38] = 4), /reserves bytes in every folder/);
    add(
      'reserve-other-data.cab',
      signed,
      (b) => void b.writeUInt32LE(0x00080008, 40),
      /does not hold a signature record/,
    );
    add(
      'previous-cabinet.cab',
      plain,
      (b) => void b.writeUInt16LE(b.readUInt16LE(30) | 1, 30),
      /later part of a multi-cabinet set/,
    );
    add(
      'coff-files.cab',
      plain,
      (b) => void b.writeUInt32LE(b.length + 4, 16),
      /coffFiles\), past the end of the cabinet/,
    );
    add(
      'coff-files-gap.cab',
      plain,
      (b) => void b.writeUInt32LE(b.readUInt32LE(16) + 8, 16),
      /not right after its 1 folder entries/,
    );
    add(
      'folder-offset.cab',
      plain,
      (b) => void b.writeUInt32LE(b.length + 1, 36),
      /folder 1's data starts at offset \d+ \(coffCabStart\), outside/,
    );
    add(
      'bad-signature.cab',
      signed,
      (b) => void b.fill(0xff, b.readUInt32LE(44), b.readUInt32LE(44) + 4),
      /its signature is corrupt/,
    );
    for (const [path, bytes] of cases) await writeFile(path, bytes);

    const run = await sign(cases.map(([path]) => path));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`0 signed, 0 skipped, ${cases.length} failed`);
    const failures = run.stderr.split('\n').filter((l) => l.startsWith('failed'));
    for (const [path, bytes, problem] of cases) {
      const lines = failures.filter((l) => l.startsWith(`failed  ${path}: `));
      expect({ path, lines: lines.length }).toEqual({ path, lines: 1 });
      expect(lines[0]).toMatch(problem);
      expect({ path, unchanged: (await readFile(path)).equals(bytes) }).toEqual({ path, unchanged: true });
    }
  });
});

(tmpfsAvailable ? describe : describe.skip)('a disk too full for the signed cabinet', () => {
  it('leaves an unsigned cabinet (written anew) and a signed one (edited in place) byte-identical, and signs once there is room', async () => {
    // A real small file system (Linux tmpfs): the 9 MiB cabinet, and 2 MiB free beside it.
    const disk = await mountTmpfs(24 << 20);
    try {
      const unsigned = await copyCab(fixture('large.cab'), disk.dir);
      const signed = await copyCab(fixture('many.cab'), disk.dir);
      expect((await sign([signed])).code).toBe(0);
      const before = [await readFile(unsigned), await readFile(signed)];
      await fillUntil(disk.dir, 2 << 20);
      const full = await sign([unsigned], 'ec');
      expect(full.code).toBe(1);
      expect(full.stderr).toMatch(
        /failed {2}.*large\.cab: .*the disk is full \(ENOSPC\).*not signed, unchanged/,
      );
      expect((await readFile(unsigned)).equals(before[0])).toBe(true);
      expect((await readdir(disk.dir)).sort()).toEqual(['filler', 'large.cab', 'many.cab']);

      await fillUntil(disk.dir, 0, 'filler-2');
      const none = await sign([signed], 'ec');
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/the disk is full \(ENOSPC\)/);
      expect((await readFile(signed)).equals(before[1])).toBe(true);

      await rm(join(disk.dir, 'filler'));
      await rm(join(disk.dir, 'filler-2'));
      const room = await sign([unsigned, signed], 'ec');
      expect(room.stdout).toContain('2 signed, 0 skipped, 0 failed');
      for (const file of [unsigned, signed]) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
      await expectSameContent(unsigned, fixture('large.cab'));
    } finally {
      await disk.unmount();
    }
  });
});

describe('a kill while cabinets are written anew', () => {
  it('leaves each cabinet original or fully signed; the next run removes the partial new files and signs the rest', async () => {
    const dir = await scratchDir('cab-kill');
    const pristine = await readFile(fixture('large.cab').path);
    const files: string[] = [];
    for (let i = 0; i < 12; i++) files.push(await copyCab(fixture('large.cab'), dir, `c${i}.cab`));
    const args = [
      'sign',
      ...keyFlags(pki),
      '--timestamp-rfc3161',
      'none',
      '--skip-signed',
      '--concurrency',
      '2',
      ...files,
    ];
    const { cli } = await shippedDist();
    const signedAtKill = new Set<string>();
    let newFilesAtKill = 0;
    let kills = 0;
    // Four kills, and more (up to 12) until one has caught a new version half written.
    for (let round = 0; round < 12 && (round < 4 || newFilesAtKill === 0); round++) {
      const pending = await Promise.all(files.map(async (f) => (await readFile(f)).equals(pristine)));
      if (!pending.includes(true))
        await Promise.all(files.map((f) => copyFile(fixture('large.cab').path, f)));
      const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      // Killed while a new version is being written: when one appears, after a random moment more.
      await new Promise<void>((resolve) => {
        const watcher = watch(dir, (_event, name) => {
          if (name && parseNewFileName(name.toString())) done();
        });
        const done = () => {
          watcher.close();
          resolve();
        };
        void exited.then(done);
      });
      await new Promise((r) => setTimeout(r, Math.random() * 60));
      child.kill('SIGKILL');
      kills++;
      await exited;
      newFilesAtKill += (await readdir(dir)).filter((name) => parseNewFileName(name)).length;
      for (const file of files) {
        if ((await readFile(file)).equals(pristine)) continue;
        const verdict = await osslVerify(file, pki.rootCa);
        expect({ file, ok: verdict.ok }).toEqual({ file, ok: true });
        signedAtKill.add(file);
      }
    }
    console.log(
      `kills: ${kills}, cabinets found signed after a kill: ${signedAtKill.size}, partial new files left: ${newFilesAtKill}`,
    );
    expect(newFilesAtKill).toBeGreaterThan(0);

    const finish = await runCli(args);
    expect(finish.code).toBe(0);
    for (const file of files) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
    expect((await readdir(dir)).filter((name) => name.includes('.vaultsign-'))).toEqual([]);
  });
});
