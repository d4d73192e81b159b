import { parseHashAlgorithm, type HashAlgorithm } from '../authenticode/algorithms.js';
import { UserError } from '../errors.js';
import type { ExistingSignature, SignSettings } from '../pipeline/sign-file.js';
import { fileQuery, wholeNumber, type FileQuery } from './file-query.js';
import { INPUTS, listOf, type Inputs } from './inputs.js';
import type { ConfiguredKeyStore, TimestampRule } from '../signers/key-store.js';
import { chooseKeyStore } from '../signers/key-stores.js';

/** One typed configuration, built the same way from Action inputs and from CLI flags. */
export interface SignConfig {
  /** The key store the inputs name, checked; opened when the run starts. */
  readonly key: ConfiguredKeyStore;
  readonly settings: SignSettings;
  readonly files: FileQuery;
  readonly concurrency: number;
  /** Seconds for the whole run; undefined: no limit. */
  readonly timeoutSeconds?: number;
  readonly dryRun: boolean;
  /** PEM file or PEM text of certificates to embed with the leaf (every key store). */
  readonly additionalCertificates?: string;
  /** Things the user should hear about before signing starts. */
  readonly warnings: string[];
}

function httpUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(`${name}: "${value}" is not a URL (expected http://… or https://…)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`${name}: "${value}" is not an http or https URL (expected http://… or https://…)`);
  }
  return value;
}

/**
 * A digest for a new signature. SHA-1 is refused unless allow-sha1: a SHA-1 timestamp digest is
 * refused too (not just warned about), since Windows distrusts SHA-1 in the timestamp as in the
 * signature, and one switch for legacy targets is easier to reason about than two rules.
 */
function newDigest(inputs: Inputs, name: 'file-digest' | 'timestamp-digest'): HashAlgorithm {
  const hash = parseHashAlgorithm(inputs[name] || 'sha256', name);
  if (hash === 'sha1' && !inputs['allow-sha1']) {
    throw new UserError(
      `${name}: sha1 is refused: SHA-1 signatures are rejected by Windows for code signed after 2016 (collisions can be forged); use sha256, or allow-sha1: true for legacy targets only`,
    );
  }
  return hash;
}

function existing(inputs: Inputs): ExistingSignature {
  if (inputs['append-signature'] && inputs['skip-signed']) {
    throw new UserError('append-signature and skip-signed contradict each other: choose one');
  }
  return inputs['append-signature'] ? 'append' : inputs['skip-signed'] ? 'skip' : 'replace';
}

function timestamp(inputs: Inputs, warnings: string[], rule: TimestampRule = {}): SignSettings['timestamp'] {
  const given = listOf(inputs['timestamp-rfc3161']);
  const defaults = listOf([INPUTS['timestamp-rfc3161'].default]);
  const urls = given.length ? given : [...new Set([...(rule.preferredUrls ?? []), ...defaults])];
  if (urls.some((u) => u.toLowerCase() === 'none')) {
    if (urls.length > 1)
      throw new UserError('timestamp-rfc3161: "none" cannot be combined with URLs: give URLs, or none alone');
    if (rule.requiredBecause) {
      throw new UserError(
        `timestamp-rfc3161: none is refused: ${rule.requiredBecause}; give RFC 3161 URLs, or leave the input out for the default list`,
      );
    }
    warnings.push(
      'timestamping is off (timestamp-rfc3161: none): the signatures will stop being valid when the signing certificate expires',
    );
    return undefined;
  }
  return {
    urls: urls.map((u) => httpUrl(u, 'timestamp-rfc3161')),
    digest: newDigest(inputs, 'timestamp-digest'),
  };
}

export function buildSignConfig(inputs: Inputs, positionals: readonly string[] = []): SignConfig {
  const warnings: string[] = [];
  const descriptionUrl = inputs['description-url'] || undefined;
  if (descriptionUrl) httpUrl(descriptionUrl, 'description-url');
  const timeout = wholeNumber(inputs.timeout, 'timeout', 0, 30 * 24 * 3600);
  const { configured } = chooseKeyStore(inputs, warnings);
  return {
    key: configured,
    settings: {
      fileDigest: newDigest(inputs, 'file-digest'),
      timestamp: timestamp(inputs, warnings, configured.timestamp),
      description: inputs.description || undefined,
      descriptionUrl,
      existing: existing(inputs),
      pageHashes: inputs['generate-page-hashes'] ?? false,
    },
    files: fileQuery(inputs, positionals),
    concurrency: wholeNumber(inputs.concurrency, 'concurrency', 1, 256) ?? Number(INPUTS.concurrency.default),
    timeoutSeconds: timeout || undefined,
    dryRun: inputs['dry-run'] ?? false,
    additionalCertificates: inputs['additional-certificates'] || undefined,
    warnings,
  };
}
