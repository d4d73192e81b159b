import type { SignConfig } from '../config/sign-config.js';
import { requestGithubIdToken } from '../credentials/github-id-token.js';
import { messageOf } from '../errors.js';
import { count, runSigning, totals } from '../pipeline/run-signing.js';
import type { FileResult } from '../pipeline/sign-files.js';
import { stopOnSignals } from '../pipeline/stop-signals.js';
import type { Console } from './main.js';

function line(result: FileResult): string {
  const seconds = (result.durationMs / 1000).toFixed(2);
  const when = result.timestamp ? `, timestamp ${result.timestamp.toISOString()}` : '';
  return `${result.status.padEnd(7)} ${result.path}: ${result.detail}${when} (${seconds} s)`;
}

export async function runSign(config: SignConfig, io: Console, env: NodeJS.ProcessEnv): Promise<number> {
  const stop = stopOnSignals((message) => io.err(message));
  try {
    const { results } = await runSigning(config, {
      env,
      // The terminal is the user's own: nothing to mask, and nothing secret is ever printed.
      mask: () => undefined,
      // In a workflow `run:` step with id-token: write, GitHub OIDC works as in the Action.
      getIdToken: (audience) => requestGithubIdToken(env, audience, stop.signal),
      stopSignal: stop.signal,
      reporter: {
        info: io.out,
        warning: (message) => io.err(`warning: ${message}`),
        fileDone: (result) => (result.status === 'failed' ? io.err : io.out)(line(result)),
      },
    });
    io.out(totals(results, config.dryRun));
    return stop.exitStatus() ?? (count(results, 'failed') > 0 ? 1 : 0);
  } catch (error) {
    // Stopped before any file was touched (e.g. while signing in): still the signal's exit status.
    if (stop.exitStatus() === undefined) throw error;
    io.err(`error: ${messageOf(error)}`);
    return stop.exitStatus()!;
  } finally {
    stop.dispose();
  }
}
