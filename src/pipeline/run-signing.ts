import type { SignConfig } from '../config/sign-config.js';
import { UserError } from '../errors.js';
import type { CredentialEnvironment } from '../credentials/azure-credential.js';
import { findFiles } from '../discovery/find-files.js';
import { readAdditionalCertificates } from '../signers/issuer-chain.js';
import type { ReadySigner } from '../signers/key-store.js';
import { signingCertificate, type SigningCertificate } from './sign-file.js';
import { signFiles, stopReason, type FileResult } from './sign-files.js';

/** Where a run reports as it goes: the Action's log and annotations, or the terminal. */
export interface Reporter {
  info(message: string): void;
  warning(message: string): void;
  /** How many files the run will sign, once known (before the first fileDone). */
  filesFound?(total: number): void;
  fileDone(result: FileResult): void;
}

export interface RunContext extends CredentialEnvironment {
  readonly reporter: Reporter;
  /** Stops the run from outside (a cancelled job); its reason, a UserError, says why. */
  readonly stopSignal?: AbortSignal;
}

export interface RunOutcome {
  readonly files: string[];
  readonly results: FileResult[];
  /** Each distinct certificate the run signed with (or would have), in order of first use. */
  readonly certificates: readonly SigningCertificate[];
  readonly signer?: string;
}

/** Aborts once `seconds` have passed, saying so; it never keeps the process alive by itself. */
function deadline(seconds: number | undefined): AbortSignal | undefined {
  if (!seconds) return undefined;
  const controller = new AbortController();
  const timeout = new UserError(`the ${seconds} s timeout ran out`);
  setTimeout(() => controller.abort(timeout), seconds * 1000).unref();
  return controller.signal;
}

/**
 * Setting up (sign-in, certificate checks) counts against the deadline too; no file is touched by
 * then. The signal also cancels the set-up's requests; this answers at once with what happened.
 */
function beforeDeadline<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const stop = () =>
      reject(new UserError(`${stopReason(signal)} while preparing the signer; no file was changed`));
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

export function count(results: readonly FileResult[], status: FileResult['status']): number {
  return results.filter((r) => r.status === status).length;
}

/** The closing line: "3 signed, 1 skipped, 0 failed", or for a dry run "dry run: 3 would be signed, …". */
export function totals(results: readonly FileResult[], dryRun: boolean): string {
  const done = dryRun
    ? `dry run: ${count(results, 'would-sign')} would be signed`
    : `${count(results, 'signed')} signed`;
  return `${done}, ${count(results, 'skipped')} skipped, ${count(results, 'failed')} failed`;
}

/** The key store the configuration names, opened: signed in, certificate checked. */
async function openKeyStore(
  config: SignConfig,
  context: RunContext,
  signal?: AbortSignal,
): Promise<ReadySigner> {
  // Read first, for every key store: a path that does not exist is an error, never silently ignored.
  const additionalCertificates = config.additionalCertificates
    ? await readAdditionalCertificates(config.additionalCertificates)
    : undefined;
  return config.key.open({ ...context, signal, additionalCertificates });
}

/** Distinct certificates, by thumbprint, in order of first use. */
function distinct(certificates: readonly (SigningCertificate | undefined)[]): SigningCertificate[] {
  const byThumbprint = new Map<string, SigningCertificate>();
  for (const c of certificates) if (c && !byThumbprint.has(c.thumbprint)) byThumbprint.set(c.thumbprint, c);
  return [...byThumbprint.values()];
}

/** The whole job, the same for the Action and the CLI: find, check the key, sign, report. */
export async function runSigning(config: SignConfig, context: RunContext): Promise<RunOutcome> {
  const { reporter } = context;
  // The deadline covers everything from here: sign-in, certificate checks and signing.
  const stops = [deadline(config.timeoutSeconds), context.stopSignal].filter((s) => s !== undefined);
  const signal = stops.length ? AbortSignal.any(stops) : undefined;
  for (const warning of config.warnings) reporter.warning(warning);

  const { files, notes } = await findFiles(config.files);
  for (const note of notes) reporter.warning(note);

  const ready = await beforeDeadline(openKeyStore(config, context, signal), signal);
  for (const warning of ready.warnings) reporter.warning(warning);
  const known = ready.certificate && signingCertificate(ready.certificate);
  const what = config.dryRun ? 'dry run, nothing is changed: checking' : 'signing';
  reporter.info(
    `${what} ${files.length} file(s) with ${ready.description}${known ? `: ${known.subject}` : ''}`,
  );
  reporter.filesFound?.(files.length);

  const results = await signFiles(
    files,
    ready.signer,
    config.settings,
    { concurrency: config.concurrency, signal, dryRun: config.dryRun },
    (result) => reporter.fileDone(result),
  ).finally(() => ready.close?.());
  return {
    files,
    results,
    certificates: distinct([known, ...results.map((r) => r.certificate)]),
    signer: ready.description,
  };
}
