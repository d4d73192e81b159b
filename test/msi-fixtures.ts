import { execFile } from 'node:child_process';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildOnce } from './build-once.js';
import { allStreams, writeCompoundFile, type TestEntry } from './cfb-test-writer.js';
import { CACHE, REPO } from './paths.js';

const run = promisify(execFile);

export interface MsiFixture {
  readonly name: string;
  readonly path: string;
  /** What it exercises, for test titles. */
  readonly shape: string;
  /** Whether osslsigncode can sign it (it cannot rewrite nested storages). */
  readonly osslSigns: boolean;
}

const SHAPES: Record<string, string> = {
  'tiny.msi': 'one component, every stream in the mini stream (wixl)',
  'many.msi': '50 components and binary streams of several name lengths, one empty (wixl)',
  'payload.msi': 'an 8 MB cabinet spanning many FAT sectors, so many that the FAT needs DIFAT sectors (wixl)',
  'module.msm': 'a merge module database with a ModuleSignature table (msibuild; wixl builds no .msm)',
  'storage.msi': 'version 3 with nested sub-storages and left-linked sibling trees (test writer)',
  'v4.msi': 'version 4, 4096-byte sectors, with a sub-storage (test writer)',
};

/** Bytes that no cabinet compresses: the payload's cabinet stays as large as the payload. */
function noise(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** Builds test/fixtures-src/`source` with wixl into `dir`, which holds the files it names. */
export async function wixl(dir: string, source: string, output: string): Promise<void> {
  // wixl finds File sources relative to the working directory.
  await run('wixl', ['-o', join(dir, output), join(REPO, 'test', 'fixtures-src', source)], { cwd: dir });
}

async function msibuild(file: string, ...args: string[]): Promise<void> {
  await run('msibuild', [file, ...args]);
}

/**
 * A sub-storage like an embedded transform's: its own CLSID, a small and a large stream, and with
 * `nested` a storage inside it. osslsigncode 2.9 reads such files right but rewrites nested storages
 * with wrong sibling links (and then cannot read its own output), so only the flat one is signed by it.
 */
function subStorage(nested: boolean): TestEntry {
  const deeper = {
    name: 'Deeper',
    clsid: Buffer.alloc(16, 7),
    children: [{ name: 'leaf', bytes: Buffer.from('leaf') }],
  };
  return {
    name: 'Sub',
    clsid: Buffer.from('82100c00000000000000c00000000046', 'hex'),
    children: [
      { name: 'inner', bytes: Buffer.from('a stream inside a storage') },
      { name: 'big', bytes: noise(5000) },
      ...(nested ? [deeper] : []),
    ],
  };
}

async function build(dir: string): Promise<void> {
  await writeFile(join(dir, 'part.txt'), 'part of a vaultsign test package\n');
  await writeFile(join(dir, 'blob.bin'), noise(9000));
  await writeFile(join(dir, 'empty.bin'), '');
  // Over 109 FAT sectors (7.1 MB with 512-byte sectors): the FAT's own list goes on in DIFAT sectors.
  await writeFile(join(dir, 'payload.bin'), noise(8 << 20));
  await wixl(dir, 'msi-tiny.wxs', 'tiny.msi');
  await wixl(dir, 'msi-many.wxs', 'many.msi');
  await wixl(dir, 'msi-payload.wxs', 'payload.msi');

  const module = join(dir, 'module.msm');
  await msibuild(
    module,
    '-s',
    'vaultsign module',
    'vaultsign tests',
    ';1033',
    '{6B3C1F34-6C54-4C4D-9D2A-2A1F0B3C0401}',
  );
  await msibuild(
    module,
    '-q',
    'CREATE TABLE `ModuleSignature` (`ModuleID` CHAR(72) NOT NULL, `Language` SHORT NOT NULL, `Version` CHAR(32) NOT NULL PRIMARY KEY `ModuleID`, `Language`)',
  );
  await msibuild(
    module,
    '-q',
    "INSERT INTO `ModuleSignature` (`ModuleID`, `Language`, `Version`) VALUES ('VaultsignModule.6B3C1F34_6C54_4C4D_9D2A_2A1F0B3C0401', 1033, '1.0.0')",
  );
  await msibuild(module, '-a', 'payload', join(dir, 'blob.bin'));

  const tiny = allStreams(await readFile(join(dir, 'tiny.msi')));
  await writeFile(
    join(dir, 'storage.msi'),
    writeCompoundFile(3, tiny.clsid, [...tiny.streams, subStorage(true)]),
  );
  const many = allStreams(await readFile(join(dir, 'many.msi')));
  await writeFile(
    join(dir, 'v4.msi'),
    writeCompoundFile(4, many.clsid, [...many.streams, subStorage(false)]),
  );
}

/** Builds the MSI fixtures once under .cache/msi-fixtures; concurrent callers wait for one build. */
export async function ensureMsiFixtures(): Promise<MsiFixture[]> {
  const dir = join(CACHE, 'msi-fixtures');
  const fixtures = Object.entries(SHAPES).map(([name, shape]) => ({
    name,
    shape,
    path: join(dir, name),
    osslSigns: name !== 'storage.msi',
  }));
  await buildOnce(dir, () => fixtures.map((f) => f.path), build);
  return fixtures;
}

/** A fresh copy of a fixture in `dir`: tests only ever change copies. */
export async function copyMsi(fixture: MsiFixture, dir: string, name = fixture.name): Promise<string> {
  const path = join(dir, name);
  await copyFile(fixture.path, path);
  return path;
}
