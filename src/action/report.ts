import { relative } from 'node:path';
import * as core from '@actions/core';
import { htmlText } from '../io/log-escape.js';
import { count, totals, type RunOutcome } from '../pipeline/run-signing.js';
import type { FileResult } from '../pipeline/sign-files.js';

const ICONS: Record<FileResult['status'], string> = {
  signed: '✅ signed',
  skipped: '⏭️ skipped',
  'would-sign': '🔎 dry run',
  failed: '❌ failed',
};

/** Paths as the user sees them in the workspace. */
export function shown(path: string): string {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const inside = relative(workspace, path);
  return inside && !inside.startsWith('..') ? inside : path;
}

function size(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  return bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

export function setOutputs(outcome: RunOutcome): void {
  const paths = (status: FileResult['status']): string =>
    JSON.stringify(outcome.results.filter((r) => r.status === status).map((r) => shown(r.path)));
  core.setOutput('signed-files', paths('signed'));
  core.setOutput('failed-files', paths('failed'));
  core.setOutput('skipped-files', paths('skipped'));
  core.setOutput('signed-count', count(outcome.results, 'signed'));
  core.setOutput('skipped-count', count(outcome.results, 'skipped'));
  core.setOutput('failed-count', count(outcome.results, 'failed'));
  // The first certificate: the only one unless the key store's certificate changed during the run.
  const [first] = outcome.certificates;
  core.setOutput('certificate-thumbprint', first?.thumbprint ?? '');
  core.setOutput('certificate-subject', first?.subject ?? '');
  core.setOutput('certificates', JSON.stringify(outcome.certificates));
}

/** The job summary: one table row per file, then the totals. */
export async function writeSummary(outcome: RunOutcome, dryRun: boolean): Promise<void> {
  // Cells are raw HTML: names and messages from outside are escaped.
  const rows = outcome.results.map((r) => [
    htmlText(shown(r.path)),
    r.format ?? '',
    size(r.size),
    `${ICONS[r.status]}${r.status === 'signed' ? '' : `: ${htmlText(r.detail)}`}`,
    `${(r.durationMs / 1000).toFixed(2)} s`,
    r.timestamp?.toISOString() ?? '',
  ]);
  await core.summary
    .addHeading('vaultsign', 2)
    .addRaw(
      totals(outcome.results, dryRun) + (outcome.signer ? ` — signer: ${htmlText(outcome.signer)}` : ''),
      true,
    )
    .addList(outcome.certificates.map((c) => `${htmlText(c.subject)}, thumbprint ${c.thumbprint}`))
    .addTable([
      [
        { data: 'File', header: true },
        { data: 'Format', header: true },
        { data: 'Size', header: true },
        { data: 'Result', header: true },
        { data: 'Duration', header: true },
        { data: 'Timestamp', header: true },
      ],
      ...rows,
    ])
    .write();
}
