import type { SignConfig } from '../config/sign-config.js';
import { UserError } from '../errors.js';
import type { CredentialEnvironment } from '../credentials/azure-credential.js';
import { findFiles } from '../discovery/find-files.js';
import { thumbprint } from '../signers/certificate-checks.js';
import { createSigner } from '../signers/create-signer.js';
import { signFiles, type FileResult } from './sign-files.js';

/** Where a run reports as it goes: the Action's log and annotations, or the terminal. */
export interface Reporter {
  info(message: string): void;
  warning(message: string): void;
  fileDone(result: FileResult): void;
}

export interface RunContext extends CredentialEnvironment {
  readonly reporter: Reporter;
}

export interface RunOutcome {
  readonly files: string[];
  readonly results: FileResult[];
  readonly certificate?: { readonly thumbprint: string; readonly subject: string };
  readonly signer?: string;
}

/**
 * Setting up (sign-in, certificate checks) counts against the deadline too; no file is touched by
 * then. The signal also cancels the set-up's requests; this answers at once with what happened.
 */
function beforeDeadline<T>(work: Promise<T>, signal: AbortSignal | undefined, seconds?: number): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const stop = () =>
      reject(
        new UserError(`the ${seconds} s timeout ran out while preparing the signer; no file was changed`),
      );
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

export function count(results: readonly FileResult[], status: FileResult['status']): number {
  return results.filter((r) => r.status === status).length;
}

/** The whole job, the same for the Action and the CLI: find, check the key, sign, report. */
export async function runSigning(config: SignConfig, context: RunContext): Promise<RunOutcome> {
  const { reporter } = context;
  // The deadline covers everything from here: sign-in, certificate checks and signing.
  const signal = config.timeoutSeconds ? AbortSignal.timeout(config.timeoutSeconds * 1000) : undefined;
  for (const warning of config.warnings) reporter.warning(warning);

  const { files, notes } = await findFiles(config.files);
  for (const note of notes) reporter.warning(note);
  if (config.dryRun) {
    reporter.info(`dry run: ${files.length} file(s) would be signed, nothing changed:`);
    for (const file of files) reporter.info(`  ${file}`);
    return { files, results: [] };
  }

  const ready = await beforeDeadline(createSigner(config, context, signal), signal, config.timeoutSeconds);
  for (const warning of ready.warnings) reporter.warning(warning);
  const subject = ready.certificate.subject.replace(/\n/g, ', ');
  reporter.info(`signing ${files.length} file(s) with ${ready.description}: ${subject}`);

  const results = await signFiles(
    files,
    ready.signer,
    config.settings,
    { concurrency: config.concurrency, signal, stopReason: `the ${config.timeoutSeconds} s timeout ran out` },
    (result) => reporter.fileDone(result),
  );
  return {
    files,
    results,
    certificate: { thumbprint: thumbprint(ready.certificate), subject },
    signer: ready.description,
  };
}
