import type { SignConfig } from '../config/sign-config.js';
import { requestGithubIdToken } from '../credentials/github-id-token.js';
import { messageOf } from '../errors.js';
import { progress } from '../pipeline/progress.js';
import { count, runSigning, totals } from '../pipeline/run-signing.js';
import type { FileResult } from '../pipeline/sign-files.js';
import { stopOnSignals } from '../pipeline/stop-signals.js';
import { fileRecord, jsonLine, totalsRecord } from './json-records.js';
import type { Terminal } from './terminal.js';

function line(result: FileResult): string {
  const seconds = (result.durationMs / 1000).toFixed(2);
  const when = result.timestamp ? `, timestamp ${result.timestamp.toISOString()}` : '';
  return `${result.status.padEnd(7)} ${result.path}: ${result.detail}${when} (${seconds} s)`;
}

/** On a terminal, progress is one line on stderr, rewritten in place; elsewhere (or when off) nothing. */
function liveLine(
  verb: string,
  on: boolean,
): {
  fileDone: (result: FileResult) => void;
  filesFound: (total: number) => void;
  clear: () => void;
} {
  const tty = on && process.stderr.isTTY;
  let shown = false;
  let update: ((result: FileResult) => void) | undefined;
  const clear = (): void => {
    if (shown) process.stderr.write('\r\x1b[K');
    shown = false;
  };
  return {
    filesFound: (total) => {
      if (!tty) return;
      update = progress({
        total,
        now: () => performance.now(),
        live: true,
        verb,
        show: (text) => {
          process.stderr.write(`\r${text}\x1b[K`);
          shown = true;
        },
      });
    },
    fileDone: (result) => update?.(result),
    clear,
  };
}

function reporterFor({ io, output, stdout }: Terminal) {
  const warning = (message: string) => io.err(`warning: ${message}`);
  if (output === 'json') {
    return { info: io.err, warning, fileDone: (result: FileResult) => stdout(jsonLine(fileRecord(result))) };
  }
  if (output === 'quiet') {
    return {
      info: () => undefined,
      warning,
      fileDone: (result: FileResult) => result.status === 'failed' && io.err(line(result)),
    };
  }
  return {
    info: io.out,
    warning,
    fileDone: (result: FileResult) => (result.status === 'failed' ? io.err : io.out)(line(result)),
  };
}

export async function runSign(
  config: SignConfig,
  terminal: Terminal,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const { io } = terminal;
  const stop = stopOnSignals((message) => io.err(message));
  const live = liveLine(config.dryRun ? 'checked' : 'signed', terminal.output === 'lines');
  const reporter = reporterFor(terminal);
  try {
    const { results } = await runSigning(config, {
      env,
      // The terminal is the user's own: nothing to mask, and nothing secret is ever printed.
      mask: () => undefined,
      // In a workflow `run:` step with id-token: write, GitHub OIDC works as in the Action.
      getIdToken: (audience) => requestGithubIdToken(env, audience, stop.signal),
      stopSignal: stop.signal,
      reporter: {
        ...reporter,
        filesFound: live.filesFound,
        fileDone: (result) => {
          live.clear();
          reporter.fileDone(result);
          live.fileDone(result);
        },
      },
    });
    live.clear();
    if (terminal.output === 'json') terminal.stdout(jsonLine(totalsRecord(results, config.dryRun)));
    else io.out(totals(results, config.dryRun));
    return stop.exitStatus() ?? (count(results, 'failed') > 0 ? 1 : 0);
  } catch (error) {
    // Stopped before any file was touched (e.g. while signing in): still the signal's exit status.
    if (stop.exitStatus() === undefined) throw error;
    io.err(`error: ${messageOf(error)}`);
    return stop.exitStatus()!;
  } finally {
    live.clear();
    stop.dispose();
  }
}
