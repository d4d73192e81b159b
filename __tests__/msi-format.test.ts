import { execFile } from 'node:child_process';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FileRewrite } from '../src/formats/format.js';
import { openSignable } from '../src/formats/open-file.js';
import { allStreams, writeCompoundFile, type TestEntry } from '../test/cfb-test-writer.js';
import { copyMsi, ensureMsiFixtures, type MsiFixture } from '../test/msi-fixtures.js';
import { osslSign, osslVerify } from '../test/osslsigncode.js';
import { scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type LeafName, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';
import { startTsaServer, type TsaServer } from '../test/tsa-server.js';

const run = promisify(execFile);

let pki: TestPki;
let fixtures: MsiFixture[];
let tsa: TsaServer;

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensureMsiFixtures()]);
  tsa = await startTsaServer({ configFile: pki.tsaConfig });
});
afterAll(() => tsa.close());

/** Stream names as msiinfo lists them and as stored: the signature streams are not the package's content. */
const SIGNATURE_STREAMS = new Set(['\u0005DigitalSignature', '\u0005MsiDigitalSignatureEx']);

/** What msitools sees of a package: every table exported, and the stream list without signatures. */
async function msiView(file: string): Promise<Record<string, string>> {
  // `msiinfo export` writes a table's binary cells as files under the working directory: a scratch one.
  const cwd = await scratchDir('msiinfo');
  const msiinfo = async (...args: string[]) =>
    (await run('msiinfo', [...args], { maxBuffer: 64 << 20, cwd })).stdout;
  const view: Record<string, string> = {};
  for (const table of (await msiinfo('tables', file)).split('\n').filter(Boolean))
    view[table] = await msiinfo('export', file, table);
  view['(streams)'] = (await msiinfo('streams', file))
    .split('\n')
    .filter((name) => !SIGNATURE_STREAMS.has(name))
    .join('\n');
  return view;
}

/** Every stream's name and bytes (sub-storages' too), read by the test writer's own reader. */
async function streamsOf(file: string): Promise<string[]> {
  return allStreams(await readFile(file))
    .streams.filter((s) => !SIGNATURE_STREAMS.has(s.name))
    .map((s) => `${Buffer.from(s.name, 'utf16le').toString('hex')}:${s.bytes!.toString('base64')}`)
    .sort();
}

function osslContentDigest(output: string): string | undefined {
  return /Calculated DigitalSignature\s*:\s*([0-9A-F]+)/.exec(output)?.[1].toLowerCase();
}

async function sign(files: string[], leaf: LeafName = 'rsa', ...extra: string[]) {
  return runCli(['sign', ...keyFlags(pki, leaf), '--timestamp-rfc3161', 'none', ...extra, ...files]);
}

describe('the MSI content digest', () => {
  it.each(['sha256', 'sha384', 'sha512'])(
    'equals the "Calculated DigitalSignature" of osslsigncode for every fixture (%s)',
    async (hash) => {
      const dir = await scratchDir('msi-digest');
      const agreed: string[] = [];
      for (const fixture of fixtures) {
        const opened = await openSignable(fixture.path);
        const ours = (await opened.file.indirectData(hash as 'sha256')).digest.toString('hex');
        await opened.close();
        // osslsigncode's digest of its own signed copy; where it cannot sign, of ours (which keeps every stream).
        const signed = join(dir, fixture.name);
        if (fixture.osslSigns) {
          await osslSign(fixture.path, signed, { cert: pki.leaves.rsa.chain, key: pki.leaves.rsa.key, hash });
        } else {
          await copyMsi(fixture, dir);
          expect((await sign([signed], 'rsa', '--file-digest', hash)).code).toBe(0);
        }
        const verdict = await osslVerify(signed, pki.rootCa);
        expect({ fixture: fixture.name, ok: verdict.ok, digest: osslContentDigest(verdict.output) }).toEqual({
          fixture: fixture.name,
          ok: true,
          digest: ours,
        });
        agreed.push(fixture.name);
      }
      expect(agreed).toHaveLength(fixtures.length);
    },
  );
});

describe('the new file', () => {
  /** Signs `fixture` with `signature` (any bytes serve), its streams written while digesting or not. */
  async function rewrite(fixture: MsiFixture, signature: Buffer, whileDigesting: boolean) {
    const opened = await openSignable(fixture.path);
    const dir = await scratchDir('msi-rewrite');
    const out = await open(join(dir, 'new.msi'), 'w+');
    try {
      const { digest } = await opened.file.indirectData('sha256', whileDigesting ? { newFile: out } : {});
      const length = await ((await opened.file.signatureEdit(signature)) as FileRewrite).write(out);
      const bytes = await readFile(join(dir, 'new.msi'));
      expect(bytes.length).toBe(length);
      return { digest, bytes };
    } finally {
      await out.close();
      await opened.close();
    }
  }

  it('is the same whether its streams are written as the digest reads them or afterwards', async () => {
    for (const fixture of fixtures) {
      // A signature in the mini stream and one in regular sectors, placed after the streams.
      for (const signature of [Buffer.alloc(3000, 0x5a), Buffer.alloc(9000, 0xa5)]) {
        const [early, late] = [
          await rewrite(fixture, signature, true),
          await rewrite(fixture, signature, false),
        ];
        expect({ fixture: fixture.name, same: early.bytes.equals(late.bytes) }).toEqual({
          fixture: fixture.name,
          same: true,
        });
        expect(early.digest).toEqual(late.digest);
      }
    }
  });
});

describe.each([
  ['RSA', 'rsa', 'sha256'],
  ['ECDSA', 'ec', 'sha384'],
  ['RSA', 'rsa', 'sha512'],
] as [string, LeafName, string][])('%s signatures, %s file digest, timestamped', (_key, leaf, hash) => {
  it('pass osslsigncode verify and vaultsign verify, and keep every table and stream byte for byte', async () => {
    const dir = await scratchDir(`msi-sign-${leaf}-${hash}`);
    const files = await Promise.all(fixtures.map((f) => copyMsi(f, dir)));
    const before = await Promise.all(
      fixtures.map(async (f) => [await msiView(f.path), await streamsOf(f.path)]),
    );

    const result = await runCli([
      'sign',
      ...keyFlags(pki, leaf),
      '--file-digest',
      hash,
      '--timestamp-rfc3161',
      tsa.url,
      ...files,
    ]);
    expect(result.stderr.split('\n').filter((l) => l.startsWith('failed'))).toEqual([]);
    expect(result.stdout).toContain(`${files.length} signed, 0 skipped, 0 failed`);

    for (const [i, file] of files.entries()) {
      const verdict = await osslVerify(file, pki.rootCa);
      expect({ file, ok: verdict.ok, verified: verdict.verified }).toEqual({ file, ok: true, verified: 1 });
      expect(verdict.output).toMatch(/Timestamp Server Signature verification: ok/);
      expect(verdict.output).toMatch(new RegExp(`Message digest algorithm\\s*: ${hash.toUpperCase()}`));
      expect([await msiView(file), await streamsOf(file)]).toEqual(before[i]);
      const header = (await readFile(file)).subarray(0, 512);
      const source = (await readFile(fixtures[i].path)).subarray(0, 512);
      // Same version and sector size; a version 4 file counts its directory sectors (jsign #88).
      expect([header.readUInt16LE(26), header.readUInt16LE(30)]).toEqual([
        source.readUInt16LE(26),
        source.readUInt16LE(30),
      ]);
      expect(header.readUInt32LE(40) > 0).toBe(header.readUInt16LE(26) === 4);
      // The payload's FAT outgrows the header's 109 entries both before and after: DIFAT sectors read and written.
      if (fixtures[i].name === 'payload.msi')
        expect([source.readUInt32LE(72), header.readUInt32LE(72)]).toEqual([1, 1]);
    }
    const verify = await runCli(['verify', '--ca-file', pki.rootCa, ...files]);
    expect(verify.stdout).toContain(`${files.length} valid, 0 failed`);
    expect(verify.code).toBe(0);
  });
});

describe('signatures made by others, and signing again', () => {
  it('accepts MSIs signed by osslsigncode, and rejects a changed stream byte', async () => {
    const dir = await scratchDir('msi-foreign');
    const signed: string[] = [];
    for (const [i, fixture] of fixtures.filter((f) => f.osslSigns).entries()) {
      const leaf = i % 2 ? pki.leaves.ec : pki.leaves.rsa;
      const out = join(dir, fixture.name);
      await osslSign(fixture.path, out, {
        cert: leaf.chain,
        key: leaf.key,
        timestampUrl: i < 2 ? tsa.url : undefined,
      });
      signed.push(out);
    }
    const good = await runCli(['verify', '--ca-file', pki.rootCa, ...signed]);
    expect(good.stdout).toContain(`${signed.length} valid, 0 failed`);
    expect(good.code).toBe(0);

    // The payload cabinet's last byte: a stream the signature covers.
    const tampered = join(dir, 'tampered.msi');
    const bytes = await readFile(join(dir, 'payload.msi'));
    const cabinet = allStreams(bytes).streams.find((s) => s.bytes!.length > 1 << 20)!.bytes!;
    const at = bytes.indexOf(cabinet.subarray(cabinet.length - 64));
    bytes[at + 63] ^= 0xff;
    await writeFile(tampered, bytes);
    const bad = await runCli(['verify', '--ca-file', pki.rootCa, tampered]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/file digest does not match/);
  });

  it('replaces the signature when signing again, and nests one with --append-signature', async () => {
    const dir = await scratchDir('msi-again');
    const files = await Promise.all(fixtures.map((f) => copyMsi(f, dir)));
    expect((await sign(files)).code).toBe(0);
    const once = await Promise.all(files.map((f) => readFile(f)));

    const replaced = await sign(files, 'ec');
    expect(replaced.stdout).toContain(`${files.length} signed, 0 skipped, 0 failed`);
    expect(replaced.stdout + replaced.stderr).toMatch(/signature replaced/);
    for (const [i, file] of files.entries()) {
      const verdict = await osslVerify(file, pki.rootCa);
      expect({ file, ok: verdict.ok, verified: verdict.verified }).toEqual({ file, ok: true, verified: 1 });
      expect(verdict.output).toMatch(/Subject: \/CN=vaultsign test signer ec/);
      expect(verdict.output).not.toMatch(/Subject: \/CN=vaultsign test signer rsa/);
      // Compacted: the old signature's sectors are not kept.
      expect((await readFile(file)).length).toBeLessThanOrEqual(once[i].length + 1024);
    }

    const appended = await sign(files, 'rsa', '--append-signature');
    expect(appended.stdout).toContain(`${files.length} signed, 0 skipped, 0 failed`);
    for (const file of files) {
      const verdict = await osslVerify(file, pki.rootCa);
      expect({ file, ok: verdict.ok, verified: verdict.verified }).toEqual({ file, ok: true, verified: 2 });
    }
    const verify = await runCli(['verify', '--ca-file', pki.rootCa, ...files]);
    expect(verify.stdout).toContain(`${files.length} valid, 0 failed`);
  });

  it('changes nothing in a dry run, and skips signed packages with --skip-signed', async () => {
    const dir = await scratchDir('msi-dry');
    const files = await Promise.all(fixtures.map((f) => copyMsi(f, dir)));
    const before = await Promise.all(files.map((f) => readFile(f)));
    const dry = await sign(files, 'rsa', '--dry-run');
    expect(dry.code).toBe(0);
    expect((dry.stdout + dry.stderr).match(/would be signed: new signature/g)).toHaveLength(files.length);
    for (const [i, file] of files.entries()) expect((await readFile(file)).equals(before[i])).toBe(true);

    expect((await sign(files.slice(0, 2))).code).toBe(0);
    const signed = await Promise.all(files.map((f) => readFile(f)));
    const skip = await sign(files, 'ec', '--skip-signed');
    expect(skip.stdout).toContain(`${files.length - 2} signed, 2 skipped, 0 failed`);
    for (const i of [0, 1]) expect((await readFile(files[i])).equals(signed[i])).toBe(true);
    for (const file of files) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
  });

  it('leaves each package as it was, and no new file beside it, when signing fails after the digest', async () => {
    const dir = await scratchDir('msi-tsa-down');
    const files = await Promise.all(fixtures.map((f) => copyMsi(f, dir)));
    const before = await Promise.all(files.map((f) => readFile(f)));
    // Nothing listens on the discard port: the timestamp, asked for after the digest, fails.
    const result = await runCli([
      'sign',
      ...keyFlags(pki),
      '--timestamp-rfc3161',
      'http://127.0.0.1:9/',
      ...files,
    ]);
    expect(result.stdout).toContain(`0 signed, 0 skipped, ${files.length} failed`);
    for (const [i, file] of files.entries()) expect((await readFile(file)).equals(before[i])).toBe(true);
    expect((await readdir(dir)).filter((name) => name.includes('.vaultsign-'))).toEqual([]);
  });

  it('verifies a signature with MsiDigitalSignatureEx, removes that stream when replacing, and refuses to nest under it', async () => {
    const dir = await scratchDir('msi-dse');
    const fixture = fixtures.find((f) => f.name === 'many.msi')!;
    const file = join(dir, 'dse.msi');
    await run('osslsigncode', [
      'sign',
      '-certs',
      pki.leaves.rsa.chain,
      '-key',
      pki.leaves.rsa.key,
      '-add-msi-dse',
      '-in',
      fixture.path,
      '-out',
      file,
    ]);
    const streams = async () => (await run('msiinfo', ['streams', file])).stdout.split('\n');
    expect(await streams()).toContain('\u0005MsiDigitalSignatureEx');
    const original = await readFile(file);
    const verified = await runCli(['verify', '--ca-file', pki.rootCa, file]);
    expect(verified.stdout).toContain('1 valid, 0 failed');

    // A time in the directory changed: only the extended signature covers it, so it no longer verifies.
    const retimed = join(dir, 'retimed.msi');
    const bytes = Buffer.from(original);
    bytes.writeUInt32LE(0x01d9_0000, (bytes.readUInt32LE(48) + 1) * 512 + 128 + 108);
    await writeFile(retimed, bytes);
    const changed = await runCli(['verify', '--ca-file', pki.rootCa, retimed]);
    expect(changed.stderr).toMatch(/the file digest does not match the signature/);
    expect((await osslVerify(retimed, pki.rootCa)).ok).toBe(false);

    const nested = await sign([file], 'ec', '--append-signature');
    expect(nested.code).toBe(1);
    expect(nested.stderr).toMatch(
      /dse\.msi.*MsiDigitalSignatureEx.*sign without --append-signature to replace it/,
    );
    expect((await readFile(file)).equals(original)).toBe(true);

    const replaced = await sign([file], 'ec');
    expect(replaced.code).toBe(0);
    expect(await streams()).not.toContain('\u0005MsiDigitalSignatureEx');
    expect(await streams()).toContain('\u0005DigitalSignature');
    const verdict = await osslVerify(file, pki.rootCa);
    expect({ ok: verdict.ok, verified: verdict.verified }).toEqual({ ok: true, verified: 1 });
    expect(await msiView(file)).toEqual(await msiView(fixture.path));
  });
});

describe('compound files that are not installers', () => {
  it('refuses a Word document (class id {00020906-…}) unchanged, naming its class', async () => {
    const dir = await scratchDir('msi-word');
    const file = join(dir, 'letter.doc');
    const word = Buffer.from('0609020000000000c000000000000046', 'hex');
    await writeFile(
      file,
      writeCompoundFile(3, word, [{ name: 'WordDocument', bytes: Buffer.alloc(5000, 1) }]),
    );
    const before = await readFile(file);
    const result = await sign([file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /letter\.doc: a compound file but not a Windows Installer file \(its root class id is \{00020906-0000-0000-C000-000000000046\}\)/,
    );
    expect((await readFile(file)).equals(before)).toBe(true);
  });
});

describe('damaged compound files', () => {
  /** Byte surgery on a copy of tiny.msi: `change` edits the bytes (header, FAT, directory). */
  async function damaged(name: string, change: (bytes: Buffer) => Buffer): Promise<string> {
    const dir = await scratchDir('msi-bad');
    const bytes = await readFile(fixtures.find((f) => f.name === 'tiny.msi')!.path);
    const file = join(dir, name);
    await writeFile(file, change(bytes));
    return file;
  }
  const S = 512;
  /** Offset of directory entry `index` in a version 3 file whose directory is one chain starting at its header's sector. */
  const entryAt = (bytes: Buffer, index: number) => (bytes.readUInt32LE(48) + 1) * S + index * 128;
  const fatAt = (bytes: Buffer, sector: number) => (bytes.readUInt32LE(76) + 1) * S + sector * 4;

  it.each([
    [
      'truncated.msi',
      (b: Buffer) => b.subarray(0, b.length - 3 * S),
      /past the end of the file|beyond the end of the file/,
    ],
    [
      'bad-chain.msi',
      (b: Buffer) => {
        // The directory's first sector leads to a sector far past the end.
        b.writeUInt32LE(0x00abcdef, fatAt(b, b.readUInt32LE(48)));
        return b;
      },
      /the directory has a bad FAT chain|beyond the end of the file/,
    ],
    [
      'chain-loop.msi',
      (b: Buffer) => {
        const start = b.readUInt32LE(48);
        b.writeUInt32LE(start, fatAt(b, start));
        return b;
      },
      /the directory loops/,
    ],
    [
      'tree-loop.msi',
      (b: Buffer) => {
        // The root's first child names the root's child as its own right sibling: a cycle.
        const child = b.readUInt32LE(entryAt(b, 0) + 76);
        b.writeUInt32LE(child, entryAt(b, child) + 72);
        return b;
      },
      /the directory tree loops/,
    ],
    [
      'fat-count.msi',
      (b: Buffer) => {
        b.writeUInt32LE(1000, 44);
        return b;
      },
      /counts 1000 FAT sectors, more than the file's \d+ sectors/,
    ],
    [
      'stream-size.msi',
      (b: Buffer) => {
        // A stream claims more bytes than its chain holds.
        const child = b.readUInt32LE(entryAt(b, 0) + 76);
        b.writeUInt32LE(3000, entryAt(b, child) + 120);
        return b;
      },
      /is 3000 bytes but its chain in the mini stream holds \d+/,
    ],
    [
      'same-name.msi',
      (b: Buffer) => {
        // Two root streams under one name: which one Windows would read is anyone's guess.
        b.copy(b, entryAt(b, 1), entryAt(b, 2), entryAt(b, 2) + 66);
        return b;
      },
      /the root storage holds two entries named/,
    ],
    [
      'deep.msi',
      () => {
        let storage: TestEntry = { name: 'leaf', bytes: Buffer.from('deep') };
        for (let i = 0; i < 70; i++) storage = { name: `s${i}`, children: [storage] };
        return writeCompoundFile(3, Buffer.alloc(16), [storage]);
      },
      /storages are nested more than 64 deep/,
    ],
  ] as [string, (b: Buffer) => Buffer, RegExp][])(
    '%s is refused with what is wrong, and left byte-identical',
    async (name, change, problem) => {
      const file = await damaged(name, change);
      const before = await readFile(file);
      const result = await sign([file]);
      expect(result.code).toBe(1);
      const line = result.stderr.split('\n').find((l) => l.startsWith('failed'));
      expect(line).toContain(name);
      expect(line).toMatch(/not a valid compound file \(MSI\)/);
      expect(line).toMatch(problem);
      expect((await readFile(file)).equals(before)).toBe(true);
    },
  );
});
