import { UNTRUSTED_ROOT } from '../authenticode/chain.js';
import type { SignatureReport, Trust } from '../authenticode/verify-signature.js';
import { UserError } from '../errors.js';
import { fileAnchors, systemAnchors } from '../io/trust-store.js';
import { isValid, verifyFiles } from '../pipeline/verify-files.js';
import type { Console } from './main.js';

/** The system store plus `--ca-file`, or with `--ca-file-only` just that file. */
async function loadTrust(caFile: string | undefined, caFileOnly: boolean): Promise<Trust> {
  if (caFileOnly && !caFile)
    throw new UserError('verify: --ca-file-only needs --ca-file PEM (the only trusted roots)');
  const given = caFile ? await fileAnchors(caFile, (message) => new UserError(message)) : [];
  return { anchors: caFileOnly ? given : (await systemAnchors()).concat(given) };
}

function describe(report: SignatureReport, label: string, lines: string[]): void {
  const when = report.timestamp
    ? `timestamp ${report.timestamp.toISOString()}`
    : report.timestampProblem
      ? `timestamp present but invalid: ${report.timestampProblem}${report.timestampProblem.includes(UNTRUSTED_ROOT) ? ' (give its root with --ca-file)' : ''}`
      : 'no timestamp';
  const state = report.problems.length ? `INVALID: ${report.problems.join('; ')}` : 'valid';
  lines.push(`  ${label}: signer "${report.signer}", ${report.fileDigest}, ${when} — ${state}`);
  report.nested.forEach((inner, i) => describe(inner, `nested signature ${i + 1}`, lines));
}

export async function runVerify(
  caFile: string | undefined,
  caFileOnly: boolean,
  files: string[],
  io: Console,
): Promise<number> {
  const trust = await loadTrust(caFile, caFileOnly);
  let failed = 0;
  for (const result of await verifyFiles(files, trust)) {
    if (!result.report) {
      failed++;
      io.err(`FAILED  ${result.path}: ${result.error}`);
      continue;
    }
    const ok = isValid(result.report);
    if (!ok) failed++;
    const lines = [`${ok ? 'valid  ' : 'INVALID'} ${result.path}`];
    describe(result.report, 'signature', lines);
    (ok ? io.out : io.err)(lines.join('\n'));
  }
  io.out(`${files.length - failed} valid, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}
