import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
const run = promisify(execFile);
/** `osslsigncode verify`: the independent judge of every signature we write. */
export async function osslVerify(file, caFile, tsaCaFile = caFile) {
    const args = ['verify', '-CAfile', caFile, '-TSA-CAfile', tsaCaFile, '-in', file];
    const result = await run('osslsigncode', args).then(({ stdout, stderr }) => ({ ok: true, output: stdout + stderr }), (error) => ({
        ok: false,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
    }));
    const verified = Number(/Number of verified signatures: (\d+)/.exec(result.output)?.[1] ?? 0);
    return { ...result, ok: result.ok && /^Succeeded/m.test(result.output), verified };
}
/** The digest osslsigncode computes for a file, from the "Calculated message digest" line of verify. */
export function calculatedDigests(output) {
    return [...output.matchAll(/Calculated message digest\s*:\s*([0-9A-F]+)/g)].map((m) => m[1].toLowerCase());
}
/** Signs with osslsigncode, for differential tests of our verifier and of --append-signature. */
export async function osslSign(input, output, options) {
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
