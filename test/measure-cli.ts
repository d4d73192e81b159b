import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CliRun } from './run-cli.js';
import { scratchDir } from './pe-fixtures.js';
import { shippedDist } from './shipped-dist.js';

export interface MeasuredRun extends CliRun {
  /** From start until the process exited (not only until it printed its result). */
  readonly elapsedMs: number;
  /** The child's peak resident set, as GNU time reports it (kernel high-water mark). */
  readonly peakRssMb: number;
}

/** Runs the shipped CLI under GNU time (`time` package), measuring its wall time and peak memory. */
export async function runCliMeasured(args: string[], env: NodeJS.ProcessEnv = {}): Promise<MeasuredRun> {
  const { cli } = await shippedDist();
  const report = join(await mkdtemp(join(await scratchDir('measure'), 'time-')), 'rss');
  const started = Date.now();
  const run = await new Promise<CliRun>((resolve) => {
    execFile(
      '/usr/bin/time',
      ['-f', '%M', '-o', report, process.execPath, cli, ...args],
      { env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
  const elapsedMs = Date.now() - started;
  const kilobytes = Number((await readFile(report, 'utf8')).trim().split('\n').pop());
  return { ...run, elapsedMs, peakRssMb: kilobytes / 1024 };
}
