import { INPUTS, type InputName, type InputSpec } from '../config/inputs.js';

const VERIFY_TRUST_OPTIONS: Record<string, InputSpec> = {
  'ca-file': {
    kind: 'string',
    value: 'PEM',
    description:
      "more trusted roots for signatures and timestamps, added to the system store and Node's roots (Microsoft's code-signing roots are not shipped: give them here)",
  },
  'ca-file-only': {
    kind: 'boolean',
    description: 'trust only the roots in --ca-file',
  },
};

const SERVE_SPECS: Record<string, InputSpec> = {
  config: {
    kind: 'string',
    value: 'FILE',
    description:
      'JSON config: listen, tls, key (key-store inputs), auditLog, oidc + allow, tokens, rateLimit (see README)',
  },
};

/** node:util parseArgs options for a table of inputs: lists may repeat, booleans are flags. */
export function parseOptions(specs: Record<string, InputSpec>) {
  return Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      {
        type: spec.kind === 'boolean' ? ('boolean' as const) : ('string' as const),
        multiple: spec.kind === 'list',
      },
    ]),
  );
}

/** Options of the command line only: how results are printed. */
const OUTPUT_OPTIONS: Record<string, InputSpec> = {
  json: {
    kind: 'boolean',
    description: 'one JSON record per file and a totals record on stdout; other lines go to stderr',
  },
  quiet: { kind: 'boolean', description: 'print only failures, warnings and the totals line' },
};

const SIGN_SPECS: Record<InputName, InputSpec> = INPUTS;
export const SIGN_OPTIONS: Record<string, InputSpec> = { ...INPUTS, ...OUTPUT_OPTIONS };
export const VERIFY_OPTIONS: Record<string, InputSpec> = { ...VERIFY_TRUST_OPTIONS, ...OUTPUT_OPTIONS };
export const SERVE_OPTIONS: Record<string, InputSpec> = SERVE_SPECS;

function describe(options: Record<string, InputSpec>): string {
  return Object.entries(options)
    .map(([name, spec]) => {
      const flag = `--${name}${spec.value ? ` ${spec.value}` : ''}`;
      const fallback = spec.default && spec.kind !== 'boolean' ? ` [${spec.default}]` : '';
      return `  ${flag.padEnd(42)} ${spec.description}${fallback}`;
    })
    .join('\n');
}

const EXIT_STATUS =
  'Exit status: 0 when every file was signed (or skipped) or verified, 1 when any failed, 2 on bad usage.';

const ALIAS_NOTE = `AzureSignTool's short flags are accepted where they mean the same (-kvu, -kvc, -kvi, -kvt, -kvs,
-kva, -tr, -td, -fd, -d, -du, -ifl, -mdop, -s), each with a notice naming the vaultsign option.`;

export function signHelp(): string {
  return `Usage: vaultsign sign [options] [FILE...]

Signs files with a key in Azure Key Vault, Artifact Signing or a local file.
Options (the same names as the GitHub Action's inputs; lists repeat or take commas):
${describe(SIGN_SPECS)}

Output:
${describe(OUTPUT_OPTIONS)}

${ALIAS_NOTE}

${EXIT_STATUS}
`;
}

export function verifyHelp(): string {
  return `Usage: vaultsign verify [--ca-file PEM [--ca-file-only]] [--json | --quiet] FILE...

Checks each file's Authenticode signatures and timestamps.
${describe(VERIFY_TRUST_OPTIONS)}

Output:
${describe(OUTPUT_OPTIONS)}

${EXIT_STATUS}
`;
}

export function serveHelp(): string {
  return `Usage: vaultsign serve --config FILE

Runs an HTTPS signing server for one key (any key store: a local key, PKCS#11, Key Vault, Artifact
Signing): clients send digests, authenticated by a GitHub OIDC ID token checked against an allow-list
of claims, or by a static client token. SIGHUP reloads the access rules; SIGTERM or SIGINT stops after
answering the requests in flight. Secrets come from the config's key or the environment
(VAULTSIGN_PKCS11_PIN, VAULTSIGN_PFX_PASSWORD).
${describe(SERVE_SPECS)}

Exit status: 0 after a stop by signal, 2 when it cannot start (config, TLS files, key, port).
`;
}

export function helpText(): string {
  return `vaultsign — Authenticode signing that digests files locally and signs only the digest with your key

Usage:
  vaultsign sign [options] [FILE...]
  vaultsign verify [--ca-file PEM [--ca-file-only]] [--json | --quiet] FILE...
  vaultsign serve --config FILE  an HTTPS signing server for one key
  vaultsign <command> --help     that command's options
  vaultsign --version

Sign options (the same names as the GitHub Action's inputs; lists repeat or take commas):
${describe(SIGN_SPECS)}

Output options (sign and verify):
${describe(OUTPUT_OPTIONS)}

${ALIAS_NOTE}

Verify options:
${describe(VERIFY_TRUST_OPTIONS)}

${EXIT_STATUS}
`;
}
