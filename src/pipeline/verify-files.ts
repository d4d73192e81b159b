import { AuthenticodeSignature } from '../authenticode/signature.js';
import { verifySignature, type SignatureReport, type Trust } from '../authenticode/verify-signature.js';
import { UserError, messageOf } from '../errors.js';
import { openSignable } from '../formats/open-file.js';

export interface VerifyResult {
  readonly path: string;
  /** Absent when the file could not be read or carries no signature. */
  readonly report?: SignatureReport;
  readonly error?: string;
}

export function isValid(report: SignatureReport): boolean {
  return report.problems.length === 0 && report.nested.every(isValid);
}

export async function verifyFile(path: string, trust: Trust): Promise<SignatureReport> {
  const opened = await openSignable(path);
  try {
    const der = opened.file.signature;
    if (!der) throw new UserError('not signed');
    let signature: AuthenticodeSignature;
    try {
      signature = AuthenticodeSignature.fromDer(der);
    } catch (error) {
      throw new UserError(`the signature cannot be read: ${messageOf(error)}`);
    }
    return await verifySignature(signature, opened.file, trust);
  } finally {
    await opened.close();
  }
}

export async function verifyFiles(paths: readonly string[], trust: Trust): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  for (const path of paths) {
    try {
      results.push({ path, report: await verifyFile(path, trust) });
    } catch (error) {
      results.push({ path, error: messageOf(error) });
    }
  }
  return results;
}
