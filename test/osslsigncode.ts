import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OsslVerdict {
  readonly ok: boolean;
  readonly output: string;
  /** "Number of verified signatures: N" */
  readonly verified: number;
}

/** `osslsigncode verify`: the independent judge of every signature we write. */
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
  return { ...result, ok: result.ok && /^Succeeded/m.test(result.output), verified };
}

/** The digest osslsigncode computes for a file, from the "Calculated message digest" line of verify. */
export function calculatedDigests(output: string): string[] {
  return [...output.matchAll(/Calculated message digest\s*:\s*([0-9A-F]+)/g)].map((m) => m[1].toLowerCase());
}

export interface OsslSignOptions {
  readonly cert: string;
  readonly key: string;
  readonly hash?: string;
  readonly timestampUrl?: string;
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
    ...(options.nest ? ['-nest'] : []),
    '-in',
    input,
    '-out',
    output,
  ]);
}
