import { INPUTS } from '../config/inputs.js';
const VERIFY_OPTIONS = {
    'ca-file': {
        kind: 'string',
        value: 'PEM',
        description: 'trusted roots for signatures and timestamps (default: the system store)',
    },
};
/** node:util parseArgs options for a table of inputs: lists may repeat, booleans are flags. */
export function parseOptions(specs) {
    return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [
        name,
        {
            type: spec.kind === 'boolean' ? 'boolean' : 'string',
            multiple: spec.kind === 'list',
        },
    ]));
}
export const SIGN_SPECS = INPUTS;
export { VERIFY_OPTIONS };
function describe(options) {
    return Object.entries(options)
        .map(([name, spec]) => {
        const flag = `--${name}${spec.value ? ` ${spec.value}` : ''}`;
        const fallback = spec.default && spec.kind !== 'boolean' ? ` [${spec.default}]` : '';
        return `  ${flag.padEnd(42)} ${spec.description}${fallback}`;
    })
        .join('\n');
}
export function helpText() {
    return `vaultsign — Authenticode signing that digests files locally and signs only the digest with your key

Usage:
  vaultsign sign [options] [FILE...]
  vaultsign verify [--ca-file PEM] FILE...
  vaultsign --help

Sign options (the same names as the GitHub Action's inputs; lists repeat or take commas):
${describe(SIGN_SPECS)}

Verify options:
${describe(VERIFY_OPTIONS)}

Exit status: 0 when every file was signed (or skipped) or verified, 1 when any failed, 2 on bad usage.
`;
}
