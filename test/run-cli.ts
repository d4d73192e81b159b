import { execFile, type ChildProcess } from 'node:child_process';
import { shippedDist } from './shipped-dist.js';

export interface CliRun {
  readonly code: number;
  /** The signal that ended the process, if one did (no handler ran). */
  readonly signal?: NodeJS.Signals;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  /** Called once the process runs, e.g. to signal it. */
  during?: (child: ChildProcess) => void;
}

/** Runs the shipped bundle (dist/cli.js) the way a user does, with the Node running the tests. */
export async function runCli(args: string[], { during, ...options }: CliOptions = {}): Promise<CliRun> {
  const { cli } = await shippedDist();
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cli, ...args],
      { ...options, env: { ...process.env, ...options.env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, signal: error?.signal ?? undefined, stdout, stderr });
      },
    );
    during?.(child);
  });
}
