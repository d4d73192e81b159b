/** Every flag of the CLI, with its help text; the names are the Action's input names. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly value?: string;
  readonly help: string;
}

export const SIGN_OPTIONS: Record<string, OptionSpec> = {
  'certificate-file': { type: 'string', value: 'PEM', help: 'certificate chain, signing certificate first' },
  'private-key-file': {
    type: 'string',
    value: 'PEM',
    help: 'private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC)',
  },
  'pfx-file': { type: 'string', value: 'PFX', help: 'PKCS#12 file holding the key and its chain' },
  'pfx-password': {
    type: 'string',
    value: 'PASSWORD',
    help: 'password of the PFX file (or set VAULTSIGN_PFX_PASSWORD, which keeps it out of the process list)',
  },
  'file-digest': { type: 'string', value: 'ALG', help: 'file digest: sha256 (default), sha384, sha512' },
  'timestamp-rfc3161': {
    type: 'string',
    multiple: true,
    value: 'URL',
    help: 'RFC 3161 timestamp service; repeat or comma-separate to list fallbacks; "none" to skip',
  },
  'timestamp-digest': {
    type: 'string',
    value: 'ALG',
    help: 'digest of the timestamp request: sha256 (default), …',
  },
  description: { type: 'string', value: 'TEXT', help: 'program name shown by Windows (SpcSpOpusInfo)' },
  'description-url': { type: 'string', value: 'URL', help: 'more-information URL (SpcSpOpusInfo)' },
  'append-signature': { type: 'boolean', help: 'keep existing signatures and nest the new one under them' },
  'skip-signed': { type: 'boolean', help: 'leave files that are already signed untouched' },
  'generate-page-hashes': { type: 'boolean', help: 'add per-page hashes (PE)' },
  concurrency: { type: 'string', value: 'N', help: 'files signed at once (default 4)' },
};

export const VERIFY_OPTIONS: Record<string, OptionSpec> = {
  'ca-file': {
    type: 'string',
    value: 'PEM',
    help: 'trusted roots for signatures and timestamps (default: the system store)',
  },
};

function describe(options: Record<string, OptionSpec>): string {
  return Object.entries(options)
    .map(([name, spec]) => `  --${`${name}${spec.value ? ` ${spec.value}` : ''}`.padEnd(32)} ${spec.help}`)
    .join('\n');
}

export function helpText(): string {
  return `vaultsign — Authenticode signing that digests locally and signs the digest with your key

Usage:
  vaultsign sign [options] FILE...
  vaultsign verify [--ca-file PEM] FILE...
  vaultsign --help | --version

Sign options:
${describe(SIGN_OPTIONS)}

Verify options:
${describe(VERIFY_OPTIONS)}

Exit status: 0 when every file was signed (or skipped) or verified, 1 when any failed, 2 on bad usage.
`;
}
