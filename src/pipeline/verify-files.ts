import { AuthenticodeSignature } from '../authenticode/signature.js';
import { verifySignature, type SignatureReport, type Trust } from '../authenticode/verify-signature.js';
import { messageOf } from '../errors.js';
import { openSignable } from '../formats/open-file.js';

export interface VerifyResult {
  readonly path: string;
  /** Absent when the file could not be read as a known format. */
  readonly format?: string;
  /** Absent when the file could not be read or carries no signature. */
  readonly report?: SignatureReport;
  readonly error?: string;
}

export function isValid(report: SignatureReport): boolean {
  return report.problems.length === 0 && report.nested.every(isValid);
}

async function verifyFile(path: string, trust: Trust): Promise<VerifyResult> {
  const opened = await openSignable(path);
  const { format } = opened.file;
  try {
    const der = opened.file.signature;
    if (!der) return { path, format, error: 'not signed' };
    let signature: AuthenticodeSignature;
    try {
      signature = AuthenticodeSignature.fromDer(der);
    } catch (error) {
      return { path, format, error: `the signature cannot be read: ${messageOf(error)}` };
    }
    return { path, format, report: await verifySignature(signature, opened.file, trust) };
  } finally {
    await opened.close();
  }
}

export async function verifyFiles(paths: readonly string[], trust: Trust): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  for (const path of paths) {
    try {
      results.push(await verifyFile(path, trust));
    } catch (error) {
      results.push({ path, error: messageOf(error) });
    }
  }
  return results;
}
