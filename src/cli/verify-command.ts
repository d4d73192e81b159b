import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import type { SignatureReport, Trust } from '../authenticode/verify-signature.js';
import { UserError } from '../errors.js';
import { pemBlocks } from '../io/pem.js';
import { isValid, verifyFiles } from '../pipeline/verify-files.js';
import type { Console } from './main.js';

async function loadTrust(caFile: string | undefined): Promise<Trust> {
  if (!caFile) return { anchors: rootCertificates.map((pem) => new X509Certificate(pem)) };
  const text = await readFile(caFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`ca-file ${caFile}: cannot read it (${error.code ?? error.message})`);
  });
  const anchors = pemBlocks(text, 'CERTIFICATE').map((der) => new X509Certificate(der));
  if (anchors.length === 0) throw new UserError(`ca-file ${caFile}: no PEM certificates in it`);
  return { anchors };
}

function describe(report: SignatureReport, label: string, lines: string[]): void {
  const when = report.timestamp
    ? `timestamp ${report.timestamp.toISOString()}`
    : report.timestampProblem
      ? `timestamp present but invalid: ${report.timestampProblem}`
      : 'no timestamp';
  const state = report.problems.length ? `INVALID: ${report.problems.join('; ')}` : 'valid';
  lines.push(`  ${label}: signer "${report.signer}", ${report.fileDigest}, ${when} — ${state}`);
  report.nested.forEach((inner, i) => describe(inner, `nested signature ${i + 1}`, lines));
}

export async function runVerify(caFile: string | undefined, files: string[], io: Console): Promise<number> {
  const trust = await loadTrust(caFile);
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
