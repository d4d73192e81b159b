import { execFile } from 'node:child_process';
import { shippedDist } from './shipped-dist.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the shipped bundle (dist/cli.js) the way a user does, with the Node running the tests. */
export async function runCli(
  args: string[],
  options: { uid?: number; gid?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const { cli } = await shippedDist();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { ...options, env: { ...process.env, ...options.env } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
