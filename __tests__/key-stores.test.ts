import { describe, expect, it } from '@jest/globals';
import type { Inputs } from '../src/config/inputs.js';
import { buildSignConfig } from '../src/config/sign-config.js';
import { artifactSigningKeyStore } from '../src/signers/artifact-signing/key-store.js';
import { keyVaultKeyStore } from '../src/signers/key-vault-key-store.js';
import { chooseKeyStore, KEY_STORES } from '../src/signers/key-stores.js';
import { localKeyStore } from '../src/signers/local-key-store.js';

const VAULT: Inputs = {
  'azure-key-vault-url': 'https://v.vault.azure.net',
  'azure-key-vault-certificate': 'c',
};
const ARTIFACT: Inputs = {
  'artifact-signing-endpoint': 'https://eus.codesigning.azure.net',
  'artifact-signing-account': 'acme',
  'artifact-signing-certificate-profile': 'release',
};
const OFFICIAL: Inputs = {
  endpoint: 'https://eus.codesigning.azure.net/',
  'trusted-signing-account-name': 'acme',
  'certificate-profile-name': 'release',
};

const choose = (inputs: Inputs) => chooseKeyStore(inputs, []).store;

describe('the key store registry', () => {
  it('finds each key store by its inputs', () => {
    expect(choose({ 'pfx-file': 'key.pfx' })).toBe(localKeyStore);
    expect(choose({ 'certificate-file': 'chain.pem', 'private-key-file': 'key.pem' })).toBe(localKeyStore);
    expect(choose(VAULT)).toBe(keyVaultKeyStore);
    expect(choose(ARTIFACT)).toBe(artifactSigningKeyStore);
    expect(choose(OFFICIAL)).toBe(artifactSigningKeyStore);
    expect(
      choose({ ...OFFICIAL, 'trusted-signing-account-name': undefined, 'signing-account-name': 'acme' }),
    ).toBe(artifactSigningKeyStore);
  });

  it('refuses two key stores, naming both and the inputs that chose them', () => {
    expect(() => choose({ ...VAULT, ...OFFICIAL })).toThrow(
      'the inputs name 2 key stores: Azure Key Vault (azure-key-vault-url, azure-key-vault-certificate) and Azure Artifact Signing (endpoint, trusted-signing-account-name, certificate-profile-name); give the inputs of one',
    );
    expect(() => choose({ 'pfx-file': 'k.pfx', 'artifact-signing-account': 'acme' })).toThrow(
      /^the inputs name 2 key stores: a local key \(pfx-file\) and Azure Artifact Signing \(artifact-signing-account\)/,
    );
  });

  it('names every key store when none is given', () => {
    let message = '';
    try {
      choose({ files: ['a.exe'] });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^no signing key: give the inputs of one key store: /);
    for (const store of KEY_STORES) expect(message).toContain(`${store.name} (${store.inputs.join(', ')})`);
  });

  it('refuses one Artifact Signing input given twice under two names with different values', () => {
    expect(() => choose({ ...ARTIFACT, 'trusted-signing-account-name': 'other' })).toThrow(
      'artifact-signing-account ("acme") and trusted-signing-account-name ("other") say different things: give one of them',
    );
    expect(choose({ ...ARTIFACT, 'trusted-signing-account-name': 'acme' })).toBe(artifactSigningKeyStore);
  });

  it('says which Artifact Signing input is missing', () => {
    expect(() => choose({ endpoint: 'https://eus.codesigning.azure.net' })).toThrow(
      /^artifact-signing-account and artifact-signing-certificate-profile are missing: Artifact Signing needs/,
    );
    expect(() =>
      choose({ ...ARTIFACT, 'artifact-signing-endpoint': 'http://eus.codesigning.azure.net' }),
    ).toThrow(/must use https/);
  });

  it('requires a timestamp with Artifact Signing and tries Microsoft’s service first', () => {
    const files = ['a.exe'];
    expect(() => buildSignConfig({ ...OFFICIAL, files, 'timestamp-rfc3161': ['none'] })).toThrow(
      /^timestamp-rfc3161: none is refused: Artifact Signing certificates are valid for 3 days/,
    );
    expect(buildSignConfig({ ...OFFICIAL, files }).settings.timestamp?.urls).toEqual([
      'http://timestamp.acs.microsoft.com',
      'http://timestamp.digicert.com',
      'http://timestamp.sectigo.com',
    ]);
    // Other key stores keep the default list, and may still turn timestamps off.
    expect(buildSignConfig({ ...VAULT, files }).settings.timestamp?.urls).toEqual([
      'http://timestamp.digicert.com',
      'http://timestamp.sectigo.com',
    ]);
    expect(
      buildSignConfig({ ...VAULT, files, 'timestamp-rfc3161': ['none'] }).settings.timestamp,
    ).toBeUndefined();
  });

  it('notes the official action’s exclude-*-credential inputs it ignores', () => {
    const config = buildSignConfig({
      ...OFFICIAL,
      files: ['a.exe'],
      'exclude-managed-identity-credential': true,
      'exclude-interactive-browser-credential': false,
    });
    expect(config.warnings).toEqual([
      'exclude-managed-identity-credential, exclude-interactive-browser-credential: accepted from the official action and ignored: vaultsign signs in as azure-credential says (auto)',
    ]);
  });
});
