import * as core from '@actions/core';
import { buildSignConfig } from '../config/sign-config.js';
import { UserError, messageOf } from '../errors.js';
import { logLine } from '../io/log-escape.js';
import { progress } from '../pipeline/progress.js';
import { count, runSigning, totals } from '../pipeline/run-signing.js';
import type { FileResult } from '../pipeline/sign-files.js';
import { stopOnSignals } from '../pipeline/stop-signals.js';
import { readActionInputs } from './inputs.js';
import { setOutputs, shown, writeSummary } from './report.js';

/** The Action: inputs → one configuration → the shared run → log, annotations, summary, outputs. */
export async function run(): Promise<void> {
  const stop = stopOnSignals((message) => core.warning(message));
  try {
    const config = buildSignConfig(readActionInputs());
    let showProgress: ((result: FileResult) => void) | undefined;
    const outcome = await runSigning(config, {
      env: process.env,
      mask: (secret) => core.setSecret(secret),
      getIdToken: (audience) => core.getIDToken(audience),
      stopSignal: stop.signal,
      reporter: {
        // core.warning and core.error escape their data and properties against commands themselves;
        // logLine also shows control characters (a TSA's body, a file name) as %XX, as in the plain lines.
        info: (message) => core.info(logLine(message)),
        warning: (message) => core.warning(logLine(message)),
        // Long runs: a line every ~10 s or 10 % of the files (see progress.ts).
        filesFound: (total) => {
          showProgress = progress({
            total,
            now: () => performance.now(),
            show: (text) => core.info(text),
            verb: config.dryRun ? 'checked' : 'signed',
          });
        },
        fileDone: (result) => {
          const when = result.timestamp ? `, timestamp ${result.timestamp.toISOString()}` : '';
          const line = `${result.status}: ${shown(result.path)} — ${result.detail}${when} (${(result.durationMs / 1000).toFixed(2)} s)`;
          if (result.status === 'failed')
            core.error(logLine(line), { file: shown(result.path), title: 'vaultsign: not signed' });
          else core.info(logLine(line));
          showProgress?.(result);
        },
      },
    });
    setOutputs(outcome);
    core.info(totals(outcome.results, config.dryRun));
    await writeSummary(outcome, config.dryRun);
    const failed = count(outcome.results, 'failed');
    if (failed > 0) core.setFailed(`${failed} of ${outcome.results.length} file(s) were not signed`);
    else if (stop.exitStatus()) core.setFailed('the run was cancelled');
  } catch (error) {
    core.setFailed(
      error instanceof UserError
        ? error.message
        : `vaultsign failed with an unexpected error: ${messageOf(error)}; please report it`,
    );
  } finally {
    stop.dispose();
  }
}
