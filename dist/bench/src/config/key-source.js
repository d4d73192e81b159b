import { UserError } from '../errors.js';
export const CREDENTIAL_MODES = [
    'auto',
    'github-oidc',
    'client-secret',
    'access-token',
    'azure-cli',
    'managed-identity',
];
function localKey(inputs) {
    const certificateFile = inputs['certificate-file'];
    const privateKeyFile = inputs['private-key-file'];
    const pfxFile = inputs['pfx-file'];
    if (pfxFile && (certificateFile || privateKeyFile)) {
        throw new UserError('give either pfx-file, or certificate-file with private-key-file, not both');
    }
    if (pfxFile)
        return { pfxFile, pfxPassword: inputs['pfx-password'] ?? '' };
    if (certificateFile && privateKeyFile)
        return { certificateFile, privateKeyFile };
    if (certificateFile || privateKeyFile) {
        throw new UserError(`${certificateFile ? 'private-key-file' : 'certificate-file'} is missing: a PEM key needs its PEM certificate chain`);
    }
    return undefined;
}
function vaultUrl(value) {
    let url;
    try {
        url = new URL(value);
    }
    catch {
        throw new UserError(`azure-key-vault-url: "${value}" is not a URL (expected https://NAME.vault.azure.net)`);
    }
    if (url.protocol !== 'https:')
        throw new UserError(`azure-key-vault-url: "${value}" must use https`);
    return url.origin;
}
function credential(inputs) {
    const mode = (inputs['azure-credential'] || 'auto');
    if (!CREDENTIAL_MODES.includes(mode)) {
        throw new UserError(`azure-credential: "${mode}" is not one of ${CREDENTIAL_MODES.join(', ')}`);
    }
    return {
        mode,
        tenantId: inputs['azure-tenant-id'] || undefined,
        clientId: inputs['azure-client-id'] || undefined,
        clientSecret: inputs['azure-client-secret'] || undefined,
        accessToken: inputs['azure-access-token'] || undefined,
    };
}
export function keySource(inputs) {
    const local = localKey(inputs);
    const url = inputs['azure-key-vault-url'];
    const certificate = inputs['azure-key-vault-certificate'];
    if (local && (url || certificate)) {
        throw new UserError('give either a Key Vault (azure-key-vault-url) or a local key (certificate-file / pfx-file), not both');
    }
    if (local)
        return { kind: 'local', local };
    if (url && certificate) {
        return {
            kind: 'key-vault',
            vault: {
                vaultUrl: vaultUrl(url),
                certificateName: certificate,
                certificateVersion: inputs['azure-key-vault-certificate-version'] || undefined,
                credential: credential(inputs),
            },
        };
    }
    if (url || certificate) {
        throw new UserError(`${url ? 'azure-key-vault-certificate' : 'azure-key-vault-url'} is missing: Key Vault signing needs both`);
    }
    throw new UserError('no signing key: give azure-key-vault-url with azure-key-vault-certificate, or certificate-file with private-key-file, or pfx-file');
}
