import { count } from '../pipeline/run-signing.js';
import type { FileResult } from '../pipeline/sign-files.js';

export function fileRecord(result: FileResult) {
  return {
    type: 'file',
    path: result.path,
    status: result.status,
    detail: result.detail,
    timestamp: result.timestamp?.toISOString() ?? null,
    durationMs: result.durationMs,
    size: result.size ?? null,
    format: result.format ?? null,
    thumbprint: result.certificate?.thumbprint ?? null,
  };
}

export function totalsRecord(results: readonly FileResult[], dryRun: boolean) {
  return {
    type: 'totals',
    dryRun,
    signed: count(results, 'signed'),
    wouldSign: count(results, 'would-sign'),
    skipped: count(results, 'skipped'),
    failed: count(results, 'failed'),
  };
}

/**
 * One JSON line that parses to exactly `value` yet that a GitHub Actions log cannot act on: C1
 * controls and DEL (JSON.stringify leaves them raw) and the "##[" of legacy workflow commands are
 * written as \u escapes. It starts with "{", so never with "::".
 */
export function jsonLine(value: object): string {
  return JSON.stringify(value)
    .replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/##\[/g, '##\\u005b');
}
