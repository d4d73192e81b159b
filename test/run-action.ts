import { execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EntraId } from './emulators/entra-id.js';
import type { GithubOidc } from './emulators/github-oidc.js';
import { REPO } from './paths.js';
import { scratchDir } from './pe-fixtures.js';
import { shippedDist } from './shipped-dist.js';

export interface ActionRun {
  readonly code: number;
  /** Everything the step printed, as the runner would log it. */
  readonly log: string;
  readonly outputs: Record<string, string>;
  readonly summary: string;
}

/** GITHUB_OUTPUT holds name<<DELIMITER / value / DELIMITER blocks. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^(.+?)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(pattern)) outputs[match[1]] = match[3];
  return outputs;
}

/** Runs dist/index.js (a copy, as the runner has it) the way the runner does: inputs as INPUT_* variables, files for outputs and summary. */
export async function runAction(
  inputs: Record<string, string>,
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
  /** Called once the process runs, e.g. to signal it. */
  during?: (child: ChildProcess) => void,
): Promise<ActionRun> {
  const files = await mkdtemp(join(await scratchDir('runner'), 'step-'));
  const output = join(files, 'output');
  const summary = join(files, 'summary');
  await Promise.all([writeFile(output, ''), writeFile(summary, '')]);
  const inputEnv = Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]),
  );
  const childEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GITHUB_ACTIONS: 'true',
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_WORKSPACE: cwd ?? REPO,
    RUNNER_TEMP: files,
    ...inputEnv,
    ...env,
  };
  const { action } = await shippedDist();
  const { code, log } = await new Promise<{ code: number; log: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [action],
      { env: childEnv, cwd: cwd ?? REPO },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          log: stdout + stderr,
        });
      },
    );
    during?.(child);
  });
  return {
    code,
    log,
    outputs: parseOutputs(await readFile(output, 'utf8')),
    summary: await readFile(summary, 'utf8'),
  };
}

/**
 * The environment of a job with id-token: write, pointed at the emulators by the standard variables
 * only (the runner's token request URL, the Entra authority, the emulators' CA).
 */
export function emulatedJobEnv(
  github: Pick<GithubOidc, 'requestUrl' | 'requestToken'>,
  entra: Pick<EntraId, 'authorityHost'>,
  httpsCa: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
    AZURE_AUTHORITY_HOST: entra.authorityHost,
    NODE_EXTRA_CA_CERTS: httpsCa,
    ...extra,
  };
}
