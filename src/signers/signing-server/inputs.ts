import type { InputSpec } from '../../config/inputs.js';

/** The inputs of a key behind `vaultsign serve`: the server, and how this job proves who it is. */
export const SIGNING_SERVER_INPUTS = {
  'signing-server-url': {
    kind: 'string',
    value: 'URL',
    description:
      'signing server (vaultsign serve): its https:// URL; the key stays there, only digests are sent',
  },
  'signing-server-token': {
    kind: 'string',
    value: 'TOKEN',
    secret: true,
    description: 'signing server: a static client token (CLI: or VAULTSIGN_SIGNING_SERVER_TOKEN)',
  },
  'signing-server-audience': {
    kind: 'string',
    value: 'AUDIENCE',
    description:
      "signing server: authenticate with the job's GitHub OIDC ID token for this audience (the server's oidc.audience; needs id-token: write)",
  },
} as const satisfies Record<string, InputSpec>;
