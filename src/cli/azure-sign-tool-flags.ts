/**
 * AzureSignTool's short flags that mean the same as a vaultsign option, so its command lines carry
 * over. node's parseArgs takes only one-letter short options, so these tokens are rewritten first.
 */
export const AZURE_SIGN_TOOL_FLAGS: Readonly<Record<string, string>> = {
  '-kvu': 'azure-key-vault-url',
  '-kvc': 'azure-key-vault-certificate',
  '-kvi': 'azure-client-id',
  '-kvt': 'azure-tenant-id',
  '-kvs': 'azure-client-secret',
  '-kva': 'azure-access-token',
  '-tr': 'timestamp-rfc3161',
  '-td': 'timestamp-digest',
  '-fd': 'file-digest',
  '-d': 'description',
  '-du': 'description-url',
  '-ifl': 'files-catalog',
  '-mdop': 'concurrency',
  '-s': 'skip-signed',
};

/** Where the meaning differs in a way that can change which files are signed. */
const CAVEATS: Record<string, string> = {
  '-ifl':
    "; vaultsign reads relative paths in the list from the list file's own folder, AzureSignTool from the working directory",
};

/** The arguments with AzureSignTool flags as vaultsign options, and one notice per flag rewritten. */
export function rewriteAzureSignToolFlags(args: readonly string[]): { args: string[]; notices: string[] } {
  const end = args.indexOf('--');
  const notices = new Set<string>();
  const rewritten = args.map((arg, i) => {
    if (end !== -1 && i >= end) return arg;
    const [flag, ...value] = arg.split('=');
    const name = AZURE_SIGN_TOOL_FLAGS[flag!];
    if (!name) return arg;
    notices.add(`notice: ${flag} (AzureSignTool) is --${name} in vaultsign${CAVEATS[flag!] ?? ''}`);
    return [`--${name}`, ...value].join('=');
  });
  return { args: rewritten, notices: [...notices] };
}
