import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFile,
  copyFile,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  truncate,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSignable } from '../src/formats/open-file.js';
import { CHECKSUM_THREAD_MIN_BYTES } from '../src/formats/pe/checksum-thread.js';
import { readRanges } from '../src/io/ranges.js';
import { osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, keyFlags, type TestPki } from '../test/pki.js';
import { runCli, type CliRun } from '../test/run-cli.js';
import { shippedDist } from '../test/shipped-dist.js';
import { fillUntil, mountTmpfs, tmpfsAvailable, type Tmpfs } from '../test/tmpfs.js';

let pki: TestPki;
let fixtures: PeFixture[];
beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
});

const PAGE = 4096;
const signArgs = () => ['sign', ...keyFlags(pki), '--timestamp-rfc3161', 'none'];
const sidecars = async (dir: string) => (await readdir(dir)).filter((n) => n.includes('.vaultsign-'));

interface Reported {
  readonly status: string;
  readonly detail: string;
}

/** The CLI's per-file lines ("signed  PATH: detail (0.12 s)") by path, and whether it printed its summary. */
function reported(run: CliRun): { files: Map<string, Reported[]>; summary: boolean } {
  const files = new Map<string, Reported[]>();
  for (const line of `${run.stdout}\n${run.stderr}`.split('\n')) {
    const match = /^(signed|skipped|failed)\s+(\S+?): (.*?)(?:, timestamp \S+)? \(\d+\.\d+ s\)$/.exec(line);
    if (match) files.set(match[2], [...(files.get(match[2]) ?? []), { status: match[1], detail: match[3] }]);
  }
  return { files, summary: /^\d+ signed, \d+ skipped, \d+ failed$/m.test(run.stdout) };
}

/** osslsigncode's verdict for each file's content, verifying each distinct content once. */
async function verdicts(files: readonly string[]): Promise<Map<string, boolean>> {
  const byContent = new Map<string, boolean>();
  const result = new Map<string, boolean>();
  for (const file of files) {
    const hash = createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
    if (!byContent.has(hash)) byContent.set(hash, (await osslVerify(file, pki.rootCa)).ok);
    result.set(file, byContent.get(hash)!);
  }
  return result;
}

/** A CLI run started now, with its pid known while it runs. */
async function startCli(args: string[]): Promise<{ pid: number; done: Promise<CliRun> }> {
  const { cli } = await shippedDist();
  const child = spawn(process.execPath, [cli, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) =>
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr })),
  );
  return { pid: child.pid!, done };
}

(tmpfsAvailable ? describe : describe.skip)('a disk that fills up while files are signed', () => {
  // A real file system that runs out of space: tmpfs (Linux; root here, passwordless sudo on CI runners).
  let disk: Tmpfs;
  beforeAll(async () => {
    disk = await mountTmpfs(4 << 20);
  });
  afterAll(() => disk?.unmount());

  it('leaves every file byte-identical or verifying, and reports each one as it is', async () => {
    // Free pages left beside the files: from none (even the lock does not fit) to room for a dozen tables.
    const levels = Array.from({ length: 36 }, (_, i) => i);
    const figures = { trials: 0, files: 0, signed: 0, failed: 0, lost: 0, misreported: 0 };
    const stages = { lock: 0, journal: 0, table: 0 };
    const problems: string[] = [];
    for (const [trial, pages] of levels.entries()) {
      for (const name of await readdir(disk.dir)) await rm(join(disk.dir, name));
      const originals = new Map<string, Buffer>();
      for (const [i, fixture] of [...fixtures, ...fixtures].entries()) {
        const file = await copyFixture(fixture, disk.dir, `f${i}-${fixture.name}`);
        originals.set(file, await readFile(file));
      }
      await fillUntil(disk.dir, pages * PAGE);
      const concurrency = trial % 2 ? '1' : '8';
      const run = await runCli([...signArgs(), '--concurrency', concurrency, ...originals.keys()]);
      const { files: lines } = reported(run);
      const ok = await verdicts([...originals.keys()]);
      let failed = 0;
      for (const [file, original] of originals) {
        const unchanged = (await readFile(file)).equals(original);
        const verifies = !unchanged && ok.get(file) === true;
        const [line, ...more] = lines.get(file) ?? [];
        const where = `trial ${trial} (${pages} pages free, concurrency ${concurrency}): ${file}`;
        if (!unchanged && !verifies) {
          figures.lost++;
          problems.push(`${where}: neither original nor verifying`);
        }
        if (!line || more.length) problems.push(`${where}: reported ${1 + more.length} times`);
        else if (line.status === 'signed') {
          figures.signed++;
          if (!verifies) {
            figures.misreported++;
            problems.push(`${where}: reported signed, does not verify`);
          }
        } else if (line.status === 'failed') {
          failed++;
          if (!unchanged) {
            figures.misreported++;
            problems.push(`${where}: reported failed, yet changed`);
          }
          if (!/the disk is full \(ENOSPC\)/.test(line.detail))
            problems.push(`${where}: failed without the disk-full reason: ${line.detail}`);
          if (/lock file/.test(line.detail)) stages.lock++;
          else if (/journal/.test(line.detail)) stages.journal++;
          else if (/writing the signature/.test(line.detail)) stages.table++;
        } else problems.push(`${where}: ${line.status}`);
        figures.files++;
      }
      figures.failed += failed;
      figures.trials++;
      if (run.code !== (failed ? 1 : 0))
        problems.push(`trial ${trial}: exit code ${run.code} with ${failed} failed`);
      const left = await sidecars(disk.dir);
      if (left.length) problems.push(`trial ${trial}: left ${left.join(', ')}`);
    }
    console.log(`full disk: ${JSON.stringify({ ...figures, failedAt: stages })}`);
    expect(problems).toEqual([]);
    expect([figures.lost, figures.misreported]).toEqual([0, 0]);
    // The trials reached every step that can hit a full disk, and signed files too.
    expect(stages.journal).toBeGreaterThan(0);
    expect(stages.table).toBeGreaterThan(0);
    expect(figures.signed).toBeGreaterThan(0);
  });
});

describe('two runs on the same files', () => {
  it('sign each file exactly once; the other run skips it or names the run that holds it', async () => {
    const FILES = 200;
    const dir = await scratchDir('two-runs');
    const original = await readFile(fixtures.find((f) => f.name === 'pe64.dll')!.path);
    const files = Array.from({ length: FILES }, (_, i) => join(dir, `f${String(i).padStart(3, '0')}.dll`));
    const figures = { trials: 0, files: 0, lost: 0, misreported: 0, lockRefusals: 0 };
    const problems: string[] = [];
    const started = Date.now();
    while (figures.trials < 3 || (Date.now() - started < 50_000 && figures.trials < 60)) {
      const trial = figures.trials++;
      await Promise.all(files.map((f) => writeFile(f, original)));
      // Same order (they meet on every file) or opposite orders (they meet in the middle).
      const order = trial % 2 ? [...files].reverse() : files;
      const runs = [
        await startCli([...signArgs(), '--skip-signed', ...files]),
        await startCli([...signArgs(), '--skip-signed', ...order]),
      ];
      const done = await Promise.all(runs.map((r) => r.done));
      const parsed = done.map(reported);
      for (const [i, run] of done.entries()) {
        const failed = [...parsed[i].files.values()].flat().filter((r) => r.status === 'failed').length;
        if (!parsed[i].summary || run.code !== (failed ? 1 : 0))
          problems.push(
            `trial ${trial} run ${i}: aborted or wrong exit code ${run.code}: ${run.stderr.slice(0, 300)}`,
          );
      }
      const ok = await verdicts(files);
      for (const file of files) {
        figures.files++;
        const where = `trial ${trial}: ${file}`;
        const lines = parsed.map((p) => p.files.get(file) ?? []);
        if (lines.some((l) => l.length !== 1)) {
          problems.push(`${where}: not reported once by each run`);
          continue;
        }
        const [a, b] = lines.map((l) => l[0]);
        if (!ok.get(file)) {
          figures.lost++;
          problems.push(`${where}: does not verify`);
        }
        if ([a, b].filter((r) => r.status === 'signed').length !== 1) {
          figures.misreported++;
          problems.push(`${where}: signed ${a.status}/${b.status}`);
        }
        for (const [i, other] of [
          [0, 1],
          [1, 0],
        ]) {
          const result = [a, b][i];
          if (result.status !== 'failed') continue;
          figures.lockRefusals++;
          const named = `being signed by another vaultsign run, pid ${runs[other].pid}`;
          if (!result.detail.includes(named)) problems.push(`${where}: run ${i} failed: ${result.detail}`);
        }
      }
      const left = await sidecars(dir);
      if (left.length) problems.push(`trial ${trial}: left ${left.join(', ')}`);
    }
    console.log(`two runs: ${JSON.stringify(figures)}`);
    expect(problems).toEqual([]);
    expect([figures.lost, figures.misreported]).toEqual([0, 0]);
    // The runs did meet on files.
    expect(figures.lockRefusals).toBeGreaterThan(0);
  });
});

/** A program that appends `count` numbered 1 KiB records to `file`, `gapMs` apart, after `delayMs`. */
function appender(file: string, count: number, gapMs: number, delayMs: number): Promise<void> {
  const script = `
    const fs = require('node:fs');
    const [file, count, gap, delay] = process.argv.slice(1);
    const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(ms));
    sleep(delay);
    for (let i = 0; i < Number(count); i++) {
      fs.appendFileSync(file, Buffer.alloc(1024, 'record ' + String(i).padStart(6, '0') + ';'));
      sleep(gap);
    }`;
  const child = spawn(process.execPath, ['-e', script, file, String(count), String(gapMs), String(delayMs)]);
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`appender exit ${code}`)))),
  );
}

const records = (count: number) =>
  Buffer.concat(
    Array.from({ length: count }, (_, i) => Buffer.alloc(1024, `record ${String(i).padStart(6, '0')};`)),
  );

/** True when `bytes` is `expected` with one block of other bytes inserted, at `from` or later. */
function oneBlockInserted(bytes: Buffer, expected: Buffer, from: number): boolean {
  const inserted = bytes.length - expected.length;
  if (inserted <= 0) return false;
  let at = 0;
  while (at < expected.length && bytes[at] === expected[at]) at++;
  return at >= from && bytes.subarray(at + inserted).equals(expected.subarray(at));
}

describe('a file appended to while it is signed', () => {
  it('is never cut: refused with every appended byte kept, or signed while no append was under way', async () => {
    const dir = await scratchDir('growing');
    const pristinePath = join(dir, 'pristine.exe');
    await copyFixture(
      fixtures.find((f) => f.name === 'pe64.exe')!,
      dir,
      'pristine.exe',
    );
    // Over the checksum thread's threshold: the digest takes a while, and both readers are in play.
    await appendFile(pristinePath, Buffer.alloc(100 << 20, 0x5a));
    const pristine = await readFile(pristinePath);
    const COUNT = 100;
    const appended = records(COUNT);
    const outcomes = {
      trials: 0,
      refused: 0,
      signedBefore: 0,
      signedWithRecords: 0,
      refusedTableKept: 0,
      lost: 0,
    };
    const problems: string[] = [];
    const scratch = await mkdtemp(join(tmpdir(), 'vaultsign-growing-'));
    // From appending before the run has opened the file to appending after it has written it.
    for (const delay of Array.from({ length: 12 }, (_, i) => i * 40)) {
      outcomes.trials++;
      const file = join(dir, `grow-${delay}.exe`);
      await copyFile(pristinePath, file);
      const [run] = await Promise.all([runCli([...signArgs(), file]), appender(file, COUNT, 3, delay)]);
      const [line] = reported(run).files.get(file) ?? [];
      const bytes = await readFile(file);
      const where = `append after ${delay} ms: ${line?.status} ${line?.detail}`;
      if (line?.status === 'failed' && /changed while being signed/.test(line.detail)) {
        const expected = Buffer.concat([pristine, appended]);
        if (bytes.equals(expected)) outcomes.refused++;
        // The append landed while the table was written: header put back, nothing cut, the table kept.
        else if (/nothing is cut/.test(line.detail) && oneBlockInserted(bytes, expected, pristine.length))
          outcomes.refusedTableKept++;
        else {
          outcomes.lost++;
          problems.push(`${where}: refused, but its bytes are not the original + appended`);
        }
      } else if (line?.status === 'signed') {
        // The run signed the file as it stood when no append was under way: with the first `before`
        // records (a loaded machine may start the run late), the rest following the signature.
        let before = 0;
        const recordAt = (offset: number, i: number) =>
          bytes.subarray(offset, offset + 1024).equals(appended.subarray(i * 1024, (i + 1) * 1024));
        while (before < COUNT && recordAt(pristine.length + before * 1024, before)) before++;
        const after = (COUNT - before) * 1024;
        const signed = join(scratch, `signed-${delay}.exe`);
        await writeFile(signed, bytes.subarray(0, bytes.length - after));
        // The header differs (the signature's entry, the checksum): osslsigncode judges the signed part.
        const intact = bytes.subarray(bytes.length - after).equals(appended.subarray(before * 1024));
        if (intact && (await osslVerify(signed, pki.rootCa)).ok) {
          if (before === 0) outcomes.signedBefore++;
          else outcomes.signedWithRecords++;
        } else {
          outcomes.lost++;
          problems.push(
            `${where}: signed, but not a verifying file (its first ${before} records in it) followed by the other records`,
          );
        }
      } else problems.push(`${where}: unexpected report`);
      expect(await sidecars(dir)).toEqual([]);
      await rm(file);
    }
    await rm(scratch, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
    console.log(`growing file: ${JSON.stringify(outcomes)}`);
    expect(problems).toEqual([]);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

describe('a file cut while its digest is read', () => {
  it('fails that file with the reason (checksum thread and main read both), nothing rejects unhandled', async () => {
    const dir = await scratchDir('cut-while-read');
    const file = await copyFixture(
      fixtures.find((f) => f.name === 'pe64.exe')!,
      dir,
    );
    await appendFile(file, Buffer.alloc(CHECKSUM_THREAD_MIN_BYTES + (16 << 20), 0x5a));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const opened = await openSignable(file);
      await truncate(file, 8 << 20);
      await expect(opened.file.indirectData('sha256')).rejects.toThrow(/the file changed while being read/);
      await opened.close();
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await rm(dir, { recursive: true, force: true });
    }
    expect(unhandled).toEqual([]);
  });
});

describe('a read that fails while the digest is busy with the chunk before', () => {
  it('never rejects unhandled', async () => {
    const dir = await scratchDir('prefetch');
    const file = join(dir, 'short.bin');
    // The ranges promise 12 MiB; the file has 5: the read after the first chunk comes up short.
    await writeFile(file, Buffer.alloc(5 << 20));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const handle = await open(file, 'r');
    try {
      const digesting = readRanges(handle, [{ start: 0, end: 12 << 20 }], () => {
        throw new Error('the digest gave up');
      });
      await expect(digesting).rejects.toThrow('the digest gave up');
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await handle.close();
    }
    expect(unhandled).toEqual([]);
  });
});

describe('journals and locks named as inputs', () => {
  it('are refused with a clear message, nothing changed', async () => {
    const dir = await scratchDir('sidecar-input');
    const lock = join(dir, '.a.exe.vaultsign-lock');
    await writeFile(lock, 'not ours to sign');
    const run = await runCli([...signArgs(), lock]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `${lock}: is a journal or lock file vaultsign keeps beside a file while signing it, not a file to sign; leave it out of the file list`,
    );
    expect(await readFile(lock, 'utf8')).toBe('not ours to sign');
  });
});
