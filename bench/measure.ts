import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Measured {
  readonly seconds: number;
  /** Peak resident set of the process, from GNU time. */
  readonly peakMb: number;
  /** User + system CPU time of the process, from GNU time. */
  readonly cpuSeconds: number;
  readonly output: string;
}

/**
 * Runs a command under /usr/bin/time for wall time and peak RSS. A failing command fails the
 * measurement, unless `allowFailure` (then its output tells what failed).
 */
export async function measure(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  allowFailure = false,
): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'BENCH %e %M %U %S', command, ...args], {
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      const match = /BENCH ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(output);
      if ((code !== 0 && !allowFailure) || !match)
        reject(
          new Error(`${command} ${args.slice(0, 3).join(' ')}… failed (${code}):\n${output.slice(-2000)}`),
        );
      else
        resolve({
          seconds: Number(match[1]),
          peakMb: Number(match[2]) / 1024,
          cpuSeconds: Number(match[3]) + Number(match[4]),
          output,
        });
    });
  });
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function shell(script: string): Promise<void> {
  await run('bash', ['-c', script], { maxBuffer: 64 << 20 });
}
