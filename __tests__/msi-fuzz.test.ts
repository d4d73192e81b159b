import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, expect, it } from '@jest/globals';
import { ensureMsiFixtures, type MsiFixture } from '../test/msi-fixtures.js';
import { osslVerify } from '../test/osslsigncode.js';
import { scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';
import { random } from '../test/seeded-random.js';

/**
 * Mutation fuzzing of the compound file reader: a fixed seed, mutants of the header, FAT, mini FAT
 * and directory of wixl packages. One CLI run signs them all; each must come out either refused with
 * a message that says what is wrong (and byte-identical), or signed so that osslsigncode verifies it.
 */
const SEED = 0x5eed_0011;
const MUTANTS_PER_BASE = 90;

let pki: TestPki;
let fixtures: MsiFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensureMsiFixtures()]);
});

/** The structures of a version 3 file (512-byte sectors) the fuzzer aims at. */
function regionsOf(file: Buffer): { name: string; start: number; end: number }[] {
  const sector = (n: number) => ({ start: (n + 1) * 512, end: (n + 2) * 512 });
  return [
    { name: 'header', start: 0, end: 512 },
    { name: 'fat', ...sector(file.readUInt32LE(76)) },
    { name: 'directory', ...sector(file.readUInt32LE(48)) },
    { name: 'mini-fat', ...sector(file.readUInt32LE(60)) },
  ];
}

/** Values that break chains and sizes in interesting ways. */
const SPECIAL = [0, 1, 0xfffffffe, 0xffffffff, 0xfffffffd, 0xfffffffa, 0x7fffffff, 4095, 4096, 100_000];

it('refuses each broken mutant cleanly and unchanged, and signs each readable one validly', async () => {
  const dir = await scratchDir('msi-fuzz');
  const next = random(SEED);
  const mutants = new Map<string, { bytes: Buffer; what: string }>();
  for (const fixture of fixtures.filter((f) => f.name === 'tiny.msi' || f.name === 'many.msi')) {
    const base = await readFile(fixture.path);
    const regions = regionsOf(base);
    for (let i = 0; i < MUTANTS_PER_BASE; i++) {
      const bytes = Buffer.from(base);
      const region = regions[Math.floor(next() * regions.length)];
      // A 4-aligned field (every link and size is one) set to a special value, or random bytes.
      const at = region.start + 4 * Math.floor((next() * (region.end - region.start)) / 4);
      let what: string;
      if (next() < 0.6) {
        const value = SPECIAL[Math.floor(next() * SPECIAL.length)];
        bytes.writeUInt32LE(value, at);
        what = `${region.name}+${at - region.start} = ${value.toString(16)}h`;
      } else {
        const value = Math.floor(next() * 256);
        bytes[at + Math.floor(next() * 4)] = value;
        what = `${region.name}+${at - region.start} byte ${value}`;
      }
      const path = join(dir, `${fixture.name.replace('.msi', '')}-${i}.msi`);
      await writeFile(path, bytes);
      mutants.set(path, { bytes, what });
    }
  }

  const result = await runCli(['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none', ...mutants.keys()]);
  const failures = new Map(
    result.stderr
      .split('\n')
      .filter((l) => l.startsWith('failed  '))
      .map((l) => {
        const [, path, message] = /^failed {2}(.+?\.msi): (.*)$/.exec(l)!;
        return [path, message];
      }),
  );
  let signed = 0;
  for (const [path, { bytes, what }] of mutants) {
    const message = failures.get(path);
    if (message !== undefined) {
      // A message about the file, never an internal error.
      expect({ what, message }).toEqual({
        what,
        message: expect.stringMatching(
          /^(not a valid compound file \(MSI\): .+; the file is truncated or damaged|not a file format vaultsign can sign|its .+ entry is a storage|a compound file but not a Windows Installer file)/,
        ),
      });
      expect({ what, unchanged: (await readFile(path)).equals(bytes) }).toEqual({ what, unchanged: true });
    } else {
      const verdict = await osslVerify(path, pki.rootCa);
      expect({ what, ok: verdict.ok }).toEqual({ what, ok: true });
      signed++;
    }
  }
  console.log(`${mutants.size} mutants: ${signed} signed and verified, ${failures.size} refused`);
  // Both outcomes happen: the mutants are neither all harmless nor all fatal.
  expect(signed).toBeGreaterThan(10);
  expect(failures.size).toBeGreaterThan(10);
});
