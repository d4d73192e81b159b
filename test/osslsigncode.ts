import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from '@jest/globals';
import { ensureTestPki } from './pki.js';

const run = promisify(execFile);

export interface OsslVerdict {
  readonly ok: boolean;
  readonly output: string;
  /**
   * "Number of verified signatures: N": osslsigncode 2.9 counts the signatures it examined (primary and
   * nested), and prints the count even when one of them fails, so read it together with `ok`.
   */
  readonly verified: number;
}

/**
 * `osslsigncode verify`: the independent judge of every signature we write. `tsaCaFile` anchors the
 * timestamp's chain; the test PKI's certificates name no CRL, so no CRL options are needed.
 * osslsigncode 2.9 still says "Succeeded" when a timestamp fails to verify (it falls back to checking
 * the signer's chain at the current time): `ok` also requires that no check reported "failed".
 */
export async function osslVerify(file: string, caFile: string, tsaCaFile = caFile): Promise<OsslVerdict> {
  const args = ['verify', '-CAfile', caFile, '-TSA-CAfile', tsaCaFile, '-in', file];
  const result = await run('osslsigncode', args).then(
    ({ stdout, stderr }) => ({ ok: true, output: stdout + stderr }),
    (error: { stdout?: string; stderr?: string }) => ({
      ok: false,
      output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }),
  );
  const verified = Number(/Number of verified signatures: (\d+)/.exec(result.output)?.[1] ?? 0);
  // A wrong PE checksum is only a warning to osslsigncode ("invalid PE checksum"); for us it is a failure.
  const ok =
    result.ok &&
    /^Succeeded/m.test(result.output) &&
    !/verification: failed|invalid PE checksum|MISMATCH/.test(result.output);
  return { ...result, ok, verified };
}

/** Runs `work` in a fresh temporary folder, removed afterwards. */
async function inScratch<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'vaultsign-ossl-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Expects osslsigncode to accept every file (anchored at `caFile`), naming a file it rejects and why. */
export async function expectOsslVerified(files: readonly string[], caFile: string): Promise<void> {
  for (const file of files) {
    const verdict = await osslVerify(file, caFile);
    expect({ file, ok: verdict.ok, output: verdict.ok ? '' : verdict.output }).toEqual({
      file,
      ok: true,
      output: '',
    });
  }
}

/** The signature (DER SignedData) as osslsigncode finds it in `file`. */
export function extractSignature(file: string): Promise<Buffer> {
  return inScratch(async (dir) => {
    await run('osslsigncode', ['extract-signature', '-in', file, '-out', join(dir, 'signature.der')]);
    return readFile(join(dir, 'signature.der'));
  });
}

/** The digest osslsigncode computes for a file, from the "Calculated message digest" line of verify. */
export function calculatedDigests(output: string): string[] {
  return [...output.matchAll(/Calculated message digest\s*:\s*([0-9A-F]+)/g)].map((m) => m[1].toLowerCase());
}

/**
 * The Authenticode digest osslsigncode computes for an unsigned file. `verify` prints only "No signature
 * found" for one, so this signs a copy and reads its "Calculated message digest": signing changes only
 * what the digest skips (checksum, certificate table entry, the table itself) plus zero padding to a
 * multiple of 8, which the digest of an unsigned file includes anyway.
 */
export async function osslCalculatedDigest(file: string, hash = 'sha256'): Promise<string> {
  const pki = await ensureTestPki();
  return inScratch(async (dir) => {
    const signed = join(dir, basename(file));
    await osslSign(file, signed, { cert: pki.leaves.rsa.chain, key: pki.leaves.rsa.key, hash });
    const [digest] = calculatedDigests((await osslVerify(signed, pki.rootCa)).output);
    if (!digest) throw new Error(`osslsigncode printed no calculated digest for ${file}`);
    return digest;
  });
}

export interface OsslSignOptions {
  readonly cert: string;
  readonly key: string;
  readonly hash?: string;
  readonly timestampUrl?: string;
  /** A legacy Authenticode timestamp server (`-t`): the timestamp becomes a countersignature. */
  readonly legacyTimestampUrl?: string;
  readonly nest?: boolean;
}

/** Signs with osslsigncode, for differential tests of our verifier and of --append-signature. */
export async function osslSign(input: string, output: string, options: OsslSignOptions): Promise<void> {
  await run('osslsigncode', [
    'sign',
    '-certs',
    options.cert,
    '-key',
    options.key,
    '-h',
    options.hash ?? 'sha256',
    ...(options.timestampUrl ? ['-ts', options.timestampUrl] : []),
    ...(options.legacyTimestampUrl ? ['-t', options.legacyTimestampUrl] : []),
    ...(options.nest ? ['-nest'] : []),
    '-in',
    input,
    '-out',
    output,
  ]);
}
