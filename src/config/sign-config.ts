import { parseHashAlgorithm, type HashAlgorithm } from '../authenticode/algorithms.js';
import { UserError } from '../errors.js';
import type { ExistingSignature, SignSettings } from '../pipeline/sign-file.js';
import type { LocalKeyOptions } from '../signers/local-signer.js';

/** Public RFC 3161 services tried in order when the user names none. */
export const DEFAULT_TIMESTAMP_URLS = ['http://timestamp.digicert.com', 'http://timestamp.sectigo.com'];

/**
 * Signing inputs as the user gave them, named exactly like the Action inputs and the CLI flags,
 * so both entry points build the same configuration the same way.
 */
export interface SignInputs {
  'certificate-file'?: string;
  'private-key-file'?: string;
  'pfx-file'?: string;
  'pfx-password'?: string;
  'file-digest'?: string;
  'timestamp-rfc3161'?: readonly string[];
  'timestamp-digest'?: string;
  description?: string;
  'description-url'?: string;
  'append-signature'?: boolean;
  'skip-signed'?: boolean;
  'generate-page-hashes'?: boolean;
  concurrency?: string;
}

export interface SignConfig {
  readonly key: LocalKeyOptions;
  readonly settings: SignSettings;
  readonly concurrency: number;
  /** Things the user should hear about before signing starts. */
  readonly warnings: string[];
}

/** Splits list inputs given as repeated values, commas or newlines. */
export function listOf(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((v) => v.split(/[,\n]/))
    .map((v) => v.trim())
    .filter(Boolean);
}

function httpUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(`${name}: "${value}" is not a URL (expected http://… or https://…)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`${name}: "${value}" is not an http or https URL`);
  }
  return value;
}

function keyOptions(inputs: SignInputs): LocalKeyOptions {
  const certificateFile = inputs['certificate-file'];
  const privateKeyFile = inputs['private-key-file'];
  const pfxFile = inputs['pfx-file'];
  if (pfxFile && (certificateFile || privateKeyFile)) {
    throw new UserError('give either pfx-file, or certificate-file with private-key-file, not both');
  }
  if (pfxFile) return { pfxFile, pfxPassword: inputs['pfx-password'] ?? '' };
  if (certificateFile && privateKeyFile) return { certificateFile, privateKeyFile };
  if (certificateFile || privateKeyFile) {
    throw new UserError(
      `${certificateFile ? 'private-key-file' : 'certificate-file'} is missing: a PEM key needs its PEM certificate chain`,
    );
  }
  throw new UserError(
    'no signing key: give certificate-file and private-key-file, or pfx-file (with pfx-password)',
  );
}

function existing(inputs: SignInputs): ExistingSignature {
  if (inputs['append-signature'] && inputs['skip-signed']) {
    throw new UserError('append-signature and skip-signed contradict each other: choose one');
  }
  return inputs['append-signature'] ? 'append' : inputs['skip-signed'] ? 'skip' : 'replace';
}

function concurrency(value: string | undefined): number {
  if (value === undefined || value === '') return 4;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new UserError(`concurrency: "${value}" is not a whole number from 1 to 256`);
  }
  return n;
}

export function buildSignConfig(inputs: SignInputs): SignConfig {
  const warnings: string[] = [];
  const digest = (name: 'file-digest' | 'timestamp-digest'): HashAlgorithm =>
    parseHashAlgorithm(inputs[name] || 'sha256', name);

  const urls = listOf(inputs['timestamp-rfc3161']);
  let timestamp: SignSettings['timestamp'];
  if (urls.some((u) => u.toLowerCase() === 'none')) {
    if (urls.length > 1) throw new UserError('timestamp-rfc3161: "none" cannot be combined with URLs');
    warnings.push(
      'timestamping is off (timestamp-rfc3161: none): the signatures will stop being valid when the signing certificate expires',
    );
  } else {
    const list = urls.length ? urls : DEFAULT_TIMESTAMP_URLS;
    timestamp = {
      urls: list.map((u) => httpUrl(u, 'timestamp-rfc3161')),
      digest: digest('timestamp-digest'),
    };
  }

  const descriptionUrl = inputs['description-url'] || undefined;
  if (descriptionUrl) httpUrl(descriptionUrl, 'description-url');

  return {
    key: keyOptions(inputs),
    settings: {
      fileDigest: digest('file-digest'),
      timestamp,
      description: inputs.description || undefined,
      descriptionUrl,
      existing: existing(inputs),
      pageHashes: inputs['generate-page-hashes'] ?? false,
    },
    concurrency: concurrency(inputs.concurrency),
    warnings,
  };
}
