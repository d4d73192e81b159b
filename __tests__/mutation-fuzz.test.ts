import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startLegacyTsaServer, type LegacyTsaServer } from '../test/legacy-tsa-server.js';
import { osslSign, osslVerify, type OsslVerdict } from '../test/osslsigncode.js';
import { certificateTable, peFields } from '../test/pe-bytes.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli } from '../test/run-cli.js';
import { random } from '../test/seeded-random.js';
import { startTsaServer, type TsaServer } from '../test/tsa-server.js';
import { mutate, type Region } from '../test/mutate.js';

/**
 * Mutation fuzzing of the PE parser, the signer and the verifier against osslsigncode: a fixed seed,
 * hundreds of mutants of PE headers, the section table, data directories, the certificate table and
 * the PKCS#7 bytes of unsigned and signed fixtures. One CLI run signs all mutants and one verifies
 * them; osslsigncode judges in parallel.
 */
const SEED = 0x5eed_0008;
const MUTANTS_PER_BASE = 80;
const OSSL_PARALLEL = 4;

let pki: TestPki;
let fixtures: PeFixture[];

let tsa: TsaServer;
let legacyTsa: LegacyTsaServer;

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  [tsa, legacyTsa] = await Promise.all([
    startTsaServer({ configFile: pki.tsaConfig }),
    startLegacyTsaServer({ cert: pki.tsaCert, key: pki.tsaKey, certfile: pki.intermediateCa }),
  ]);
});
afterAll(async () => {
  await Promise.all([tsa?.close(), legacyTsa?.close()]);
});

/** The parts of a PE file the fuzzer aims at. */
function regionsOf(file: Buffer): Region[] {
  const { peOffset, certDirOffset, sectionTable, sectionCount } = peFields(file);
  const regions: Region[] = [
    { name: 'dos-header', start: 0, end: 64 },
    { name: 'coff-header', start: peOffset, end: peOffset + 24 },
    { name: 'optional-header', start: peOffset + 24, end: certDirOffset - 32 },
    { name: 'data-directories', start: certDirOffset - 32, end: certDirOffset + 88 },
    { name: 'section-table', start: sectionTable, end: sectionTable + 40 * sectionCount },
  ];
  const table = certificateTable(file);
  if (table.size) {
    regions.push({ name: 'certificate-table-header', start: table.offset, end: table.offset + 8 });
    // The PKCS#7 headers and the structure near the start, where lengths and tags are.
    regions.push({ name: 'pkcs7', start: table.offset + 8, end: table.offset + Math.min(table.size, 200) });
    regions.push({ name: 'pkcs7-any', start: table.offset + 8, end: table.offset + table.size });
    // The end: unsigned attributes (timestamps, countersignatures), outside what the signer signed.
    const tail = Math.max(table.offset + 8, table.offset + table.size - 1500);
    regions.push({ name: 'pkcs7-tail', start: tail, end: table.offset + table.size });
  }
  return regions;
}

const mutateOnce = (base: Buffer, next: () => number) =>
  mutate(base, regionsOf(base), next, [1, -1, 8, -8, 512, 4096]);

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Runs `work` over `items`, `limit` at a time. */
async function inParallel<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    }),
  );
  return results;
}

/** Per-file status from the CLI's output lines: "<status> <path>: ..." (sign) or "<verdict> <path>" (verify). */
function statuses(output: string, pattern: RegExp): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of output.matchAll(pattern)) found.set(match[2], match[1]);
  return found;
}

/** osslsigncode's own verdict, without our stricter reading of its checksum warning. */
function osslRejects(verdict: OsslVerdict): boolean {
  return !/^Succeeded/m.test(verdict.output) || /verification: failed|MISMATCH/.test(verdict.output);
}

it('signs or refuses every mutant (refused ones untouched, signed ones verified by osslsigncode), and verify never accepts what osslsigncode rejects', async () => {
  const dir = await scratchDir('fuzz');
  const picked = fixtures.filter((f) => ['pe32.exe', 'pe64.dll', 'pe32-overlay1001.exe'].includes(f.name));
  const bases: { name: string; bytes: Buffer }[] = [];
  for (const fixture of picked) {
    bases.push({ name: `unsigned-${fixture.name}`, bytes: await readFile(fixture.path) });
    const ours = await copyFixture(fixture, dir, `base-ours-${fixture.name}`);
    expect((await runCli(['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none', ours])).code).toBe(0);
    bases.push({ name: `ours-${fixture.name}`, bytes: await readFile(ours) });
    const theirs = join(dir, `base-ossl-${fixture.name}`);
    await osslSign(fixture.path, theirs, { cert: pki.leaves.ec.chain, key: pki.leaves.ec.key });
    bases.push({ name: `ossl-${fixture.name}`, bytes: await readFile(theirs) });
  }

  // Timestamped bases: an RFC 3161 token (ours) and a legacy countersignature (osslsigncode -t).
  const stamped = await copyFixture(picked[0], dir, `base-ours-rfc3161-${picked[0].name}`);
  expect((await runCli(['sign', ...keyFlags(pki), '--timestamp-rfc3161', tsa.url, stamped])).code).toBe(0);
  bases.push({ name: `ours-rfc3161-${picked[0].name}`, bytes: await readFile(stamped) });
  const countersigned = join(dir, `base-ossl-legacy-${picked[0].name}`);
  const { chain: cert, key } = pki.leaves.rsa;
  await osslSign(picked[0].path, countersigned, {
    cert,
    key,
    hash: 'sha1',
    legacyTimestampUrl: legacyTsa.url,
  });
  bases.push({ name: `ossl-legacy-${picked[0].name}`, bytes: await readFile(countersigned) });

  // The signed bases verify for both, so a mutant's verdict is the mutation's doing.
  const signedBases = bases.filter((b) => !b.name.startsWith('unsigned'));
  const baseFiles = signedBases.map((b) => join(dir, `base-${b.name}`));
  await Promise.all(signedBases.map((b, i) => writeFile(baseFiles[i], b.bytes)));
  const baseVerify = await runCli(['verify', '--ca-file', pki.rootCa, ...baseFiles]);
  expect(baseVerify.stdout).toContain(`${baseFiles.length} valid, 0 failed`);
  for (const file of baseFiles) expect((await osslVerify(file, pki.rootCa)).ok).toBe(true);

  const next = random(SEED);
  const mutants: { path: string; original: Buffer; signedBase: boolean; what: string }[] = [];
  for (const base of bases) {
    for (let i = 0; i < MUTANTS_PER_BASE; i++) {
      const { bytes, what } = mutateOnce(base.bytes, next);
      const path = join(dir, `m${String(mutants.length).padStart(4, '0')}-${base.name}`);
      await writeFile(path, bytes);
      mutants.push({ path, original: bytes, signedBase: !base.name.startsWith('unsigned'), what });
    }
  }

  // Verify first, on the mutants as made (signing replaces their signatures).
  const signedMutants = mutants.filter((m) => m.signedBase);
  const verify = await runCli(['verify', '--ca-file', pki.rootCa, ...signedMutants.map((m) => m.path)]);
  expect([0, 1]).toContain(verify.code);
  const verdicts = statuses(verify.stdout + verify.stderr, /^(valid|INVALID|FAILED)\s+(\S+?)(?::|$)/gm);
  const ossl = await inParallel(signedMutants, OSSL_PARALLEL, (m) => osslVerify(m.path, pki.rootCa));
  const acceptedWrongly = signedMutants
    .map((m, i) => ({ what: m.what, ours: verdicts.get(m.path), ossl: ossl[i] }))
    .filter((r) => r.ours === 'valid' && osslRejects(r.ossl))
    .map(
      (r) =>
        `${r.what}: ${r.ossl.output
          .split('\n')
          .filter((l) => /fail|error|corrupt|invalid/i.test(l))
          .join(' | ')}`,
    );
  expect(verdicts.size).toBe(signedMutants.length);
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
  expect(outcomes.size).toBe(mutants.length);
  const refused = mutants.filter((m) => outcomes.get(m.path) === 'failed');
  const signed = mutants.filter((m) => outcomes.get(m.path) === 'signed');
  expect(refused.length + signed.length).toBe(mutants.length);

  const changed: string[] = [];
  for (const m of refused) if (sha(await readFile(m.path)) !== sha(m.original)) changed.push(m.what);
  expect(changed).toEqual([]);

  const judged = await inParallel(signed, OSSL_PARALLEL, (m) => osslVerify(m.path, pki.rootCa));
  const badlySigned = signed
    .filter((_m, i) => !judged[i].ok)
    .map(
      (m) =>
        `${m.what}: ${judged[signed.indexOf(m)].output
          .split('\n')
          .filter((l) => /fail|error|corrupt|invalid|mismatch/i.test(l))
          .join(' | ')}`,
    );
  expect(badlySigned).toEqual([]);

  const valid = [...verdicts.values()].filter((v) => v === 'valid').length;
  const osslValid = ossl.filter((v) => !osslRejects(v)).length;
  process.stdout.write(
    `mutation fuzz: ${mutants.length} mutants (${signedMutants.length} of signed files); ` +
      `sign: ${signed.length} signed, ${refused.length} refused (all untouched), all signed pass osslsigncode; ` +
      `verify: ${valid} valid (osslsigncode: ${osslValid}), 0 accepted that osslsigncode rejects\n`,
  );
}, 300_000);
