import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, expect, it } from '@jest/globals';
import { ensureCabFixtures, type CabFixture } from '../test/cab-fixtures.js';
import { osslSign, osslVerify, type OsslVerdict } from '../test/osslsigncode.js';
import { scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';
import { random } from '../test/seeded-random.js';
import { mutate, type Region } from '../test/mutate.js';

/**
 * Mutation fuzzing of the cabinet parser, signer and verifier against osslsigncode: a fixed seed,
 * mutants of the header (its reserve and signature record), the folder and file entries, the data and
 * the PKCS#7 of unsigned and signed gcab fixtures. One CLI run signs all mutants, one verifies them.
 */
const SEED = 0xcab_f022;
const MUTANTS_PER_BASE = 60;

let pki: TestPki;
let fixtures: CabFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensureCabFixtures()]);
});

/** The parts of a cabinet the fuzzer aims at. */
function regionsOf(file: Buffer): Region[] {
  const signed = (file.readUInt16LE(30) & 4) !== 0;
  const coffFiles = file.readUInt32LE(16);
  const regions: Region[] = [
    { name: 'header', start: 0, end: 36 },
    { name: 'folders', start: signed ? 60 : 36, end: coffFiles },
    { name: 'files', start: coffFiles, end: coffFiles + 64 },
    { name: 'data', start: coffFiles + 64, end: file.readUInt32LE(8) },
  ];
  if (signed) {
    const [offset, length] = [file.readUInt32LE(44), file.readUInt32LE(48)];
    regions.push({ name: 'reserve', start: 36, end: 60 });
    regions.push({ name: 'pkcs7', start: offset, end: offset + 200 });
    regions.push({ name: 'pkcs7-any', start: offset, end: offset + length });
  }
  // Clipped to the file, with room for a 4-byte write.
  return regions.map((r) => ({ ...r, end: Math.min(r.end, file.length - 4) })).filter((r) => r.end > r.start);
}

const mutateOnce = (base: Buffer, next: () => number) =>
  mutate(base, regionsOf(base), next, [1, -1, 8, -8, 24, -24]);

/** Per-file status from the CLI's output lines: "<status> <path>: ..." (sign) or "<verdict> <path>" (verify). */
function statuses(output: string, pattern: RegExp): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of output.matchAll(pattern)) found.set(match[2], match[1]);
  return found;
}

function osslRejects(verdict: OsslVerdict): boolean {
  return !/^Succeeded/m.test(verdict.output) || /verification: failed|MISMATCH/.test(verdict.output);
}

const problemLines = (verdict: OsslVerdict) =>
  verdict.output
    .split('\n')
    .filter((l) => /fail|error|corrupt|invalid|mismatch/i.test(l))
    .join(' | ');

it('signs or refuses every mutant cabinet (refused ones untouched, signed ones verified by osslsigncode), and verify never accepts what osslsigncode rejects', async () => {
  const dir = await scratchDir('cab-fuzz');
  const byName = (name: string) => fixtures.find((f) => f.name === name)!;
  const ours = join(dir, 'base-ours.cab');
  await writeFile(ours, await readFile(byName('many.cab').path));
  expect((await runCli(['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none', ours])).code).toBe(0);
  const theirs = join(dir, 'base-ossl.cab');
  await osslSign(byName('compressed.cab').path, theirs, {
    cert: pki.leaves.ec.chain,
    key: pki.leaves.ec.key,
  });
  const bases = [
    { name: 'unsigned-one', bytes: await readFile(byName('one.cab').path), signed: false },
    { name: 'unsigned-many', bytes: await readFile(byName('many.cab').path), signed: false },
    { name: 'ours-many', bytes: await readFile(ours), signed: true },
    { name: 'ossl-compressed', bytes: await readFile(theirs), signed: true },
  ];
  for (const file of [ours, theirs]) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);

  const next = random(SEED);
  const mutants: { path: string; original: Buffer; signedBase: boolean; what: string }[] = [];
  for (const base of bases) {
    for (let i = 0; i < MUTANTS_PER_BASE; i++) {
      const { bytes, what } = mutateOnce(base.bytes, next);
      const path = join(dir, `m${String(mutants.length).padStart(4, '0')}-${base.name}.cab`);
      await writeFile(path, bytes);
      mutants.push({ path, original: bytes, signedBase: base.signed, what: `${base.name}: ${what}` });
    }
  }

  // Verify first, on the mutants as made (signing replaces their signatures).
  const signedMutants = mutants.filter((m) => m.signedBase);
  const verify = await runCli(['verify', '--ca-file', pki.rootCa, ...signedMutants.map((m) => m.path)]);
  expect([0, 1]).toContain(verify.code);
  const verdicts = statuses(verify.stdout + verify.stderr, /^(valid|INVALID|FAILED)\s+(\S+?)(?::|$)/gm);
  expect(verdicts.size).toBe(signedMutants.length);
  const acceptedWrongly: string[] = [];
  let osslValid = 0;
  for (const m of signedMutants) {
    const verdict = await osslVerify(m.path, pki.rootCa);
    if (!osslRejects(verdict)) osslValid++;
    if (verdicts.get(m.path) === 'valid' && osslRejects(verdict))
      acceptedWrongly.push(`${m.what}: ${problemLines(verdict)}`);
  }
  expect(acceptedWrongly).toEqual([]);

  const sign = await runCli([
    'sign',
    ...keyFlags(pki),
    '--timestamp-rfc3161',
    'none',
    ...mutants.map((m) => m.path),
  ]);
  expect([0, 1]).toContain(sign.code);
  const outcomes = statuses(sign.stdout + sign.stderr, /^(signed|failed|skipped)\s+(\S+?): /gm);
  const refused = mutants.filter((m) => outcomes.get(m.path) === 'failed');
  const signed = mutants.filter((m) => outcomes.get(m.path) === 'signed');
  expect(refused.length + signed.length).toBe(mutants.length);

  const changed: string[] = [];
  for (const m of refused) if (!(await readFile(m.path)).equals(m.original)) changed.push(m.what);
  expect(changed).toEqual([]);
  const badlySigned: string[] = [];
  for (const m of signed) {
    const verdict = await osslVerify(m.path, pki.rootCa);
    if (!verdict.ok) badlySigned.push(`${m.what}: ${problemLines(verdict)}`);
  }
  expect(badlySigned).toEqual([]);

  const valid = [...verdicts.values()].filter((v) => v === 'valid').length;
  process.stdout.write(
    `cab mutation fuzz: ${mutants.length} mutants (${signedMutants.length} of signed cabinets); ` +
      `sign: ${signed.length} signed, ${refused.length} refused (all untouched), all signed pass osslsigncode; ` +
      `verify: ${valid} valid (osslsigncode: ${osslValid}; it does not hash filler bytes 52-55, which we refuse), ` +
      '0 accepted that osslsigncode rejects\n',
  );
}, 300_000);
