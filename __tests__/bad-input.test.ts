import { chmod, chown, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

const fixture = (name: string) => fixtures.find((f) => f.name === name)!;

/** A copy of a fixture with some bytes changed. */
async function corrupted(dir: string, name: string, edit: (bytes: Buffer) => Buffer | void): Promise<string> {
  const bytes = await readFile(fixture('pe64.exe').path);
  const path = join(dir, name);
  await writeFile(path, edit(bytes) ?? bytes);
  return path;
}

const peOffset = (bytes: Buffer) => bytes.readUInt32LE(0x3c);
/** The Certificate Table directory entry of a PE32+ file. */
const certDirectory = (bytes: Buffer) => peOffset(bytes) + 24 + 112 + 4 * 8;

describe('bad input', () => {
  it('names each bad file and its problem, leaves it byte-identical, and still signs the good files', async () => {
    const dir = await scratchDir('bad');
    const good = [
      await copyFixture(fixture('pe32.dll'), dir),
      await copyFixture(fixture('pe64-overlay1001.exe'), dir),
    ];
    const cases: Record<string, [string, RegExp]> = {};
    const add = (path: string, problem: RegExp) => (cases[path] = [path, problem]);

    add(
      await corrupted(dir, 'text.exe', () => Buffer.from('just some text, not a program\n')),
      /not a file format vaultsign can sign/,
    );
    add(await corrupted(dir, 'empty.exe', () => Buffer.alloc(0)), /the file is empty/);
    add(await corrupted(dir, 'truncated.exe', (b) => b.subarray(0, 300)), /truncated/);
    add(await corrupted(dir, 'mz-only.exe', (b) => b.subarray(0, 40)), /shorter than an MS-DOS header/);
    add(
      await corrupted(dir, 'lfanew.exe', (b) => void b.writeUInt32LE(0x7ffffff0, 0x3c)),
      /e_lfanew .* points outside the file/,
    );
    add(
      await corrupted(dir, 'no-pe-signature.exe', (b) => void b.writeUInt32LE(0x12345678, peOffset(b))),
      /no PE signature/,
    );
    add(
      await corrupted(dir, 'magic.exe', (b) => void b.writeUInt16LE(0x30b, peOffset(b) + 24)),
      /unknown optional header magic 0x30b/,
    );
    add(
      await corrupted(dir, 'cert-outside.exe', (b) => {
        b.writeUInt32LE(b.length + 64, certDirectory(b));
        b.writeUInt32LE(4096, certDirectory(b) + 4);
      }),
      /certificate table .* points outside the file/,
    );
    add(
      await corrupted(dir, 'cert-in-sections.exe', (b) => {
        b.writeUInt32LE(0x400, certDirectory(b));
        b.writeUInt32LE(64, certDirectory(b) + 4);
      }),
      /certificate table .* overlaps the headers or sections/,
    );
    add(
      await corrupted(dir, 'cert-not-last.exe', (b) => {
        const out = Buffer.concat([b, Buffer.alloc(64, 1)]);
        out.writeUInt32LE(b.length, certDirectory(out));
        out.writeUInt32LE(32, certDirectory(out) + 4);
        return out;
      }),
      /32 bytes follow the certificate table/,
    );
    const folder = join(dir, 'a-folder.exe');
    await mkdir(folder);
    add(folder, /is a directory/);
    add(join(dir, 'missing.exe'), /no such file/);
    const unreadable = await copyFixture(fixture('pe32.exe'), dir, 'unreadable.exe');
    await chmod(unreadable, 0o000);
    add(unreadable, /cannot (open|read) it .*EACCES/);

    // Root reads everything, so the run drops to an unprivileged user for the unreadable file to be real.
    const asRoot = process.getuid?.() === 0;
    const key = join(dir, 'key.pem');
    const chain = join(dir, 'chain.pem');
    await copyFile(pki.leaves.rsa.key, key);
    await copyFile(pki.leaves.rsa.chain, chain);
    await chmod(key, 0o644);
    if (asRoot) {
      await chmod(dir, 0o777);
      for (const file of good) await chown(file, 65534, 65534);
    }
    const before = new Map<string, Buffer>();
    for (const [path] of Object.values(cases))
      before.set(path, await readFile(path).catch(() => Buffer.alloc(0)));

    const run = await runCli(
      [
        'sign',
        '--certificate-file',
        chain,
        '--private-key-file',
        key,
        '--timestamp-rfc3161',
        'none',
        ...good,
        ...Object.keys(cases),
      ],
      asRoot ? { uid: 65534, gid: 65534 } : {},
    );

    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`2 signed, 0 skipped, ${Object.keys(cases).length} failed`);
    const failures = run.stderr.split('\n').filter((l) => l.startsWith('failed'));
    for (const [path, problem] of Object.values(cases)) {
      const lines = failures.filter((l) => l.startsWith(`failed  ${path}: `));
      expect({ path, lines: lines.length }).toEqual({ path, lines: 1 });
      expect(lines[0]).toMatch(problem);
      await chmod(path, 0o644).catch(() => undefined);
      expect((await readFile(path).catch(() => Buffer.alloc(0))).equals(before.get(path)!)).toBe(true);
    }
    for (const file of good) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);
  });
});
