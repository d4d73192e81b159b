import type { InputSpec } from '../../config/inputs.js';

const OFFICIAL = "the official Artifact Signing action's name for";
const ignored = (what: string) => ({
  kind: 'boolean' as const,
  description: `the official action's switch for the ${what}; accepted and ignored (vaultsign signs in as azure-credential says)`,
});

/** Artifact Signing's inputs, under vaultsign's names and the official action's (so a workflow migrates as it is). */
export const ARTIFACT_SIGNING_INPUTS = {
  'artifact-signing-endpoint': {
    kind: 'string',
    value: 'URL',
    description: "Artifact Signing endpoint of the account's region, e.g. https://eus.codesigning.azure.net",
  },
  'artifact-signing-account': { kind: 'string', value: 'NAME', description: 'Artifact Signing account name' },
  'artifact-signing-certificate-profile': {
    kind: 'string',
    value: 'NAME',
    description: 'Artifact Signing certificate profile name',
  },
  'artifact-signing-correlation-id': {
    kind: 'string',
    value: 'ID',
    description:
      "id sent with each signature request, for the service's logs (default: the workflow run: repository, commit, run id and attempt)",
  },
  endpoint: { kind: 'string', value: 'URL', description: `${OFFICIAL} artifact-signing-endpoint` },
  'trusted-signing-account-name': {
    kind: 'string',
    value: 'NAME',
    description: `${OFFICIAL} artifact-signing-account`,
  },
  'signing-account-name': {
    kind: 'string',
    value: 'NAME',
    description: `${OFFICIAL} artifact-signing-account`,
  },
  'certificate-profile-name': {
    kind: 'string',
    value: 'NAME',
    description: `${OFFICIAL} artifact-signing-certificate-profile`,
  },
  'correlation-id': {
    kind: 'string',
    value: 'ID',
    description: `${OFFICIAL} artifact-signing-correlation-id`,
  },
  'exclude-environment-credential': ignored('environment credential'),
  'exclude-workload-identity-credential': ignored('workload identity credential'),
  'exclude-managed-identity-credential': ignored('managed identity credential'),
  'exclude-shared-token-cache-credential': ignored('shared token cache credential'),
  'exclude-visual-studio-credential': ignored('Visual Studio credential'),
  'exclude-visual-studio-code-credential': ignored('Visual Studio Code credential'),
  'exclude-azure-cli-credential': ignored('Azure CLI credential'),
  'exclude-azure-powershell-credential': ignored('Azure PowerShell credential'),
  'exclude-azure-developer-cli-credential': ignored('Azure Developer CLI credential'),
  'exclude-interactive-browser-credential': ignored('interactive browser credential'),
} as const satisfies Record<string, InputSpec>;
