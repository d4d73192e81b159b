import { UNTRUSTED_ROOT } from '../authenticode/chain.js';
import type { SignatureReport, Trust } from '../authenticode/verify-signature.js';
import { UserError } from '../errors.js';
import { fileAnchors, systemAnchors } from '../io/trust-store.js';
import { isValid, verifyFiles, type VerifyResult } from '../pipeline/verify-files.js';
import { jsonLine } from './json-records.js';
import type { Terminal } from './terminal.js';

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
      ? `timestamp present but invalid: ${report.timestampProblem}${report.timestampProblem.includes(UNTRUSTED_ROOT) ? ' (give that root with --ca-file)' : ''}`
      : 'no timestamp';
  const state = report.problems.length ? `INVALID: ${report.problems.join('; ')}` : 'valid';
  lines.push(`  ${label}: signer "${report.signer}", ${report.fileDigest}, ${when} — ${state}`);
  report.nested.forEach((inner, i) => describe(inner, `nested signature ${i + 1}`, lines));
}

/** A signature as a JSON record shows it: the same facts as the text, nested signatures inside. */
function signatureRecord(report: SignatureReport): object {
  return {
    signer: report.signer,
    fileDigest: report.fileDigest,
    timestamp: report.timestamp?.toISOString() ?? null,
    timestampProblem: report.timestampProblem ?? null,
    problems: report.problems,
    nested: report.nested.map(signatureRecord),
  };
}

function verifyRecord(result: VerifyResult): object {
  const status = !result.report ? 'failed' : isValid(result.report) ? 'valid' : 'invalid';
  return {
    type: 'file',
    path: result.path,
    format: result.format ?? null,
    status,
    error: result.error ?? null,
    signature: result.report ? signatureRecord(result.report) : null,
  };
}

export interface VerifyOptions {
  readonly caFile?: string;
  readonly caFileOnly: boolean;
}

export async function runVerify(
  { caFile, caFileOnly }: VerifyOptions,
  files: string[],
  { io, output, stdout }: Terminal,
): Promise<number> {
  const trust = await loadTrust(caFile, caFileOnly);
  const results = await verifyFiles(files, trust);
  const valid = results.filter((result) => result.report && isValid(result.report)).length;
  const failed = results.length - valid;
  for (const result of results) {
    if (output === 'json') {
      stdout(jsonLine(verifyRecord(result)));
    } else if (!result.report) {
      io.err(`FAILED  ${result.path}: ${result.error}`);
    } else {
      const ok = isValid(result.report);
      const lines = [`${ok ? 'valid  ' : 'INVALID'} ${result.path}`];
      describe(result.report, 'signature', lines);
      if (!ok) io.err(lines.join('\n'));
      else if (output === 'lines') io.out(lines.join('\n'));
    }
  }
  if (output === 'json') stdout(jsonLine({ type: 'totals', valid, failed }));
  else io.out(`${valid} valid, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}
