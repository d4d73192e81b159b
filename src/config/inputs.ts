import { ARTIFACT_SIGNING_INPUTS } from '../signers/artifact-signing/inputs.js';
import { PKCS11_INPUTS } from '../signers/pkcs11/inputs.js';
import { SIGNING_SERVER_INPUTS } from '../signers/signing-server/inputs.js';

/**
 * Every input of the Action, which is also every flag of the CLI (same names): the one place that
 * holds their meaning and defaults. action.yml repeats them for GitHub; a test keeps the two equal.
 */
export interface InputSpec {
  readonly description: string;
  readonly default?: string;
  readonly kind: 'string' | 'boolean' | 'list';
  /** Masked in the log before any use. */
  readonly secret?: boolean;
  /** Placeholder in the CLI help. */
  readonly value?: string;
}

export const INPUTS = {
  'azure-key-vault-url': {
    kind: 'string',
    value: 'URL',
    description: 'Key Vault URL, e.g. https://my-vault.vault.azure.net',
  },
  'azure-key-vault-certificate': {
    kind: 'string',
    value: 'NAME',
    description: 'name of the certificate in the vault; its key signs',
  },
  'azure-key-vault-certificate-version': {
    kind: 'string',
    value: 'VERSION',
    description: 'certificate version (default: the current one)',
  },
  'azure-tenant-id': { kind: 'string', value: 'ID', description: 'Entra ID tenant (directory) ID' },
  'azure-client-id': {
    kind: 'string',
    value: 'ID',
    description: 'client ID of the app registration or managed identity',
  },
  'azure-client-secret': {
    kind: 'string',
    value: 'SECRET',
    secret: true,
    description: 'client secret (prefer GitHub OIDC, which needs none)',
  },
  'azure-access-token': {
    kind: 'string',
    value: 'TOKEN',
    secret: true,
    description: 'a ready Key Vault access token',
  },
  'azure-credential': {
    kind: 'string',
    value: 'MODE',
    default: 'auto',
    description:
      'auto, github-oidc, client-secret, access-token, azure-cli or managed-identity; auto picks access token, then client secret, then GitHub OIDC, then Azure CLI / managed identity',
  },
  'certificate-file': {
    kind: 'string',
    value: 'PEM',
    description:
      'local key: certificate chain, signing certificate first; PKCS#11 key: the certificate (chain), when not read from the token',
  },
  'private-key-file': {
    kind: 'string',
    value: 'PEM',
    description: 'local key: private key (PKCS#8, PKCS#1 RSA or SEC1 EC)',
  },
  'pfx-file': { kind: 'string', value: 'PFX', description: 'local key: PKCS#12 file with key and chain' },
  'pfx-password': {
    kind: 'string',
    value: 'PASSWORD',
    secret: true,
    description: 'password of pfx-file or pfx-base64 (CLI: or VAULTSIGN_PFX_PASSWORD)',
  },
  // Keys from secrets: the same local key as text, so a workflow needs no file on disk. Masked line by line.
  'pfx-base64': {
    kind: 'string',
    value: 'BASE64',
    secret: true,
    description: 'local key: PKCS#12 file as base64 text, e.g. from a secret (CLI: or VAULTSIGN_PFX_BASE64)',
  },
  certificate: {
    kind: 'string',
    value: 'PEM',
    secret: true,
    description:
      'local key: certificate chain as PEM text, signing certificate first (CLI: or VAULTSIGN_CERTIFICATE)',
  },
  'private-key': {
    kind: 'string',
    value: 'PEM',
    secret: true,
    description: 'local key: private key as PEM text, e.g. from a secret (CLI: or VAULTSIGN_PRIVATE_KEY)',
  },
  ...PKCS11_INPUTS,
  ...ARTIFACT_SIGNING_INPUTS,
  ...SIGNING_SERVER_INPUTS,
  files: { kind: 'list', value: 'PATHS', description: 'files or globs to sign, newline- or comma-separated' },
  'files-folder': { kind: 'string', value: 'DIR', description: 'folder whose files are signed' },
  'files-folder-filter': {
    kind: 'list',
    value: 'LIST',
    description: 'in files-folder: extensions (dll,exe) or globs (*.dll); default all files',
  },
  'files-folder-recurse': {
    kind: 'boolean',
    default: 'false',
    description: 'search files-folder recursively',
  },
  'files-folder-depth': {
    kind: 'string',
    value: 'N',
    description: 'with recursion, how many folder levels down (default: no limit)',
  },
  'files-catalog': {
    kind: 'string',
    value: 'FILE',
    description: 'a file listing paths to sign, one a line, relative to its own folder',
  },
  exclude: { kind: 'list', value: 'GLOBS', description: 'globs of files never to sign' },
  'file-digest': {
    kind: 'string',
    value: 'ALG',
    default: 'sha256',
    description: 'file digest: sha256, sha384 or sha512',
  },
  'allow-sha1': {
    kind: 'boolean',
    default: 'false',
    description:
      'allow sha1 as file-digest or timestamp-digest, for legacy targets only (Windows rejects SHA-1 code signatures made after 2016)',
  },
  'timestamp-rfc3161': {
    kind: 'list',
    value: 'URLS',
    default: 'http://timestamp.digicert.com, http://timestamp.sectigo.com',
    description: 'RFC 3161 timestamp services, tried in order; none to skip (not recommended)',
  },
  'timestamp-digest': {
    kind: 'string',
    value: 'ALG',
    default: 'sha256',
    description: 'digest of the timestamp request',
  },
  description: { kind: 'string', value: 'TEXT', description: 'program name Windows shows (SpcSpOpusInfo)' },
  'description-url': { kind: 'string', value: 'URL', description: 'more-information URL (SpcSpOpusInfo)' },
  'append-signature': {
    kind: 'boolean',
    default: 'false',
    description: 'keep existing signatures and nest the new one under them',
  },
  'skip-signed': {
    kind: 'boolean',
    default: 'false',
    description: 'leave files that are already signed untouched',
  },
  'generate-page-hashes': { kind: 'boolean', default: 'false', description: 'add per-page hashes (PE)' },
  'additional-certificates': {
    kind: 'string',
    value: 'PEM',
    description:
      "intermediate certificates to add to the chain, with any key (a PEM file, or PEM text); default: the local key file's chain, or found through the Key Vault certificate's AIA",
  },
  concurrency: { kind: 'string', value: 'N', default: '8', description: 'files signed at once' },
  timeout: {
    kind: 'string',
    value: 'SECONDS',
    default: '0',
    description: 'time limit for the whole step; 0 for none',
  },
  'dry-run': {
    kind: 'boolean',
    default: 'false',
    description:
      'check everything a real run checks and report what it would do to each file; change nothing',
  },
} as const satisfies Record<string, InputSpec>;

export type InputName = keyof typeof INPUTS;

/** The inputs as given: strings, lists and booleans, nothing interpreted yet. */
export type Inputs = {
  -readonly [N in InputName]?: (typeof INPUTS)[N]['kind'] extends 'boolean'
    ? boolean
    : (typeof INPUTS)[N]['kind'] extends 'list'
      ? string[]
      : string;
};

export const OUTPUTS = {
  'signed-files': 'JSON array of the files signed in this run',
  'failed-files': 'JSON array of the files that could not be signed (each left as it was)',
  'skipped-files': 'JSON array of the files left as they were (already signed, with skip-signed)',
  'signed-count': 'number of files signed',
  'skipped-count': 'number of files left as they were (already signed, with skip-signed)',
  'failed-count': 'number of files that could not be signed',
  'certificate-thumbprint':
    'SHA-1 thumbprint of the signing certificate (the first one, if it changed during the run)',
  'certificate-subject': 'subject of the signing certificate (the first one, if it changed during the run)',
  certificates: 'JSON array of each distinct signing certificate used, as {thumbprint, subject}',
} as const;

/** One value split at newlines, and at commas outside braces (a glob's `*.{dll,exe}` stays whole). */
function splitList(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '{') depth++;
    else if (c === '}') depth = Math.max(0, depth - 1);
    else if (c === '\n' || (c === ',' && depth === 0)) {
      parts.push(value.slice(start, i));
      start = i + 1;
      // An unclosed brace ends with its line.
      if (c === '\n') depth = 0;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

/** Splits list inputs given as repeated values, commas or newlines. */
export function listOf(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap(splitList)
    .map((v) => v.trim())
    .filter(Boolean);
}
