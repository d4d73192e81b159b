import { afterEach, describe, expect, it } from '@jest/globals';
import { readActionInputs } from '../src/action/inputs.js';
import type { Inputs } from '../src/config/inputs.js';
import { buildSignConfig } from '../src/config/sign-config.js';
import { UserError } from '../src/errors.js';

/** Enough for a valid configuration: a local key and a file. */
const VALID: Inputs = { 'certificate-file': 'chain.pem', 'private-key-file': 'key.pem', files: ['a.exe'] };

function refusal(inputs: Inputs, positionals: string[] = []): string {
  try {
    buildSignConfig(inputs, positionals);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as UserError).message;
  }
  throw new Error('the configuration was accepted');
}

/** [what is wrong, the inputs, the message: the input named, then what to do]. */
const CASES: [string, Inputs, RegExp][] = [
  // file-query.ts
  [
    'a depth that is not a number',
    { ...VALID, 'files-folder': 'out', 'files-folder-recurse': true, 'files-folder-depth': 'two' },
    /^files-folder-depth: "two" is not a whole number from 0 to 1000; give one in that range$/,
  ],
  [
    'a depth without recursion',
    { ...VALID, 'files-folder': 'out', 'files-folder-depth': '2' },
    /^files-folder-depth limits recursion, which is off: set files-folder-recurse: true, or remove files-folder-depth$/,
  ],
  [
    'a filter without a folder',
    { ...VALID, 'files-folder-filter': ['dll'] },
    /^files-folder-filter and files-folder-recurse apply to files-folder, which is not set: set files-folder, or remove them$/,
  ],
  [
    'recursion without a folder',
    { ...VALID, 'files-folder-recurse': true },
    /^files-folder-filter and files-folder-recurse apply to files-folder, which is not set: set files-folder, or remove them$/,
  ],
  [
    'nothing to sign',
    { ...VALID, files: [' , '] },
    /^nothing to sign: give files, files-folder or files-catalog$/,
  ],
  // key stores (signers/key-stores.ts and each key store's module)
  [
    'a PFX and PEM files together',
    { ...VALID, 'pfx-file': 'key.pfx' },
    /^pfx-file and certificate-file \/ private-key-file both name a local key: give exactly one of pfx-file, pfx-base64, certificate-file \/ private-key-file, certificate \/ private-key$/,
  ],
  [
    'a certificate without its key',
    { files: ['a.exe'], 'certificate-file': 'chain.pem' },
    /^private-key-file is missing: a local PEM key needs both certificate-file \(the chain\) and private-key-file; give it, or use pfx-file or pfx-base64$/,
  ],
  [
    'a key without its certificate',
    { files: ['a.exe'], 'private-key-file': 'key.pem' },
    /^certificate-file is missing: .*; give it, or use pfx-file or pfx-base64$/,
  ],
  [
    'a vault URL that is not a URL',
    { files: ['a.exe'], 'azure-key-vault-url': 'my-vault', 'azure-key-vault-certificate': 'c' },
    /^azure-key-vault-url: "my-vault" is not a URL \(expected https:\/\/NAME\.vault\.azure\.net\)$/,
  ],
  [
    'a vault URL over http',
    {
      files: ['a.exe'],
      'azure-key-vault-url': 'http://v.vault.azure.net',
      'azure-key-vault-certificate': 'c',
    },
    /^azure-key-vault-url: "http:\/\/v\.vault\.azure\.net" must use https \(https:\/\/NAME\.vault\.azure\.net\)$/,
  ],
  [
    'an unknown credential mode',
    {
      files: ['a.exe'],
      'azure-key-vault-url': 'https://v.vault.azure.net',
      'azure-key-vault-certificate': 'c',
      'azure-credential': 'password',
    },
    /^azure-credential: "password" is not one of auto, github-oidc, client-secret, access-token, azure-cli, managed-identity$/,
  ],
  [
    'a vault and a local key together',
    { ...VALID, 'azure-key-vault-url': 'https://v.vault.azure.net' },
    /^the inputs name 2 key stores: a local key \(certificate-file, private-key-file\) and Azure Key Vault \(azure-key-vault-url\); give the inputs of one$/,
  ],
  [
    'a vault without a certificate name',
    { files: ['a.exe'], 'azure-key-vault-url': 'https://v.vault.azure.net' },
    /^azure-key-vault-certificate is missing: Key Vault signing needs both azure-key-vault-url and azure-key-vault-certificate$/,
  ],
  [
    'a certificate name without a vault',
    { files: ['a.exe'], 'azure-key-vault-certificate': 'c' },
    /^azure-key-vault-url is missing: Key Vault signing needs both/,
  ],
  [
    'no key at all',
    { files: ['a.exe'] },
    /^no signing key: give the inputs of one key store: a local key \(certificate-file, private-key-file, pfx-file, pfx-base64, certificate, private-key\); Azure Key Vault \(azure-key-vault-url, azure-key-vault-certificate, azure-key-vault-certificate-version\)/,
  ],
  // sign-config.ts
  [
    'a description URL that is not a URL',
    { ...VALID, 'description-url': 'example.com' },
    /^description-url: "example\.com" is not a URL \(expected http:\/\/… or https:\/\/…\)$/,
  ],
  [
    'a description URL of another scheme',
    { ...VALID, 'description-url': 'ftp://example.com' },
    /^description-url: "ftp:\/\/example\.com" is not an http or https URL \(expected http:\/\/… or https:\/\/…\)$/,
  ],
  [
    'a timestamp URL that is not a URL',
    { ...VALID, 'timestamp-rfc3161': ['http://ok.example', 'tsa.example'] },
    /^timestamp-rfc3161: "tsa\.example" is not a URL \(expected http:\/\/… or https:\/\/…\)$/,
  ],
  [
    'none among timestamp URLs',
    { ...VALID, 'timestamp-rfc3161': ['none, http://ok.example'] },
    /^timestamp-rfc3161: "none" cannot be combined with URLs: give URLs, or none alone$/,
  ],
  [
    'append-signature with skip-signed',
    { ...VALID, 'append-signature': true, 'skip-signed': true },
    /^append-signature and skip-signed contradict each other: choose one$/,
  ],
  [
    'an unknown file digest',
    { ...VALID, 'file-digest': 'md5' },
    /^file-digest: unknown digest algorithm "md5" \(use sha256, sha384, sha512 or sha1\)$/,
  ],
  [
    'an unknown timestamp digest',
    { ...VALID, 'timestamp-digest': 'sha3' },
    /^timestamp-digest: unknown digest algorithm "sha3" \(use sha256, sha384, sha512 or sha1\)$/,
  ],
  [
    'a concurrency of 0',
    { ...VALID, concurrency: '0' },
    /^concurrency: "0" is not a whole number from 1 to 256; give one in that range$/,
  ],
  [
    'a negative timeout',
    { ...VALID, timeout: '-5' },
    /^timeout: "-5" is not a whole number from 0 to 2592000; give one in that range$/,
  ],
];

describe('configuration errors', () => {
  it.each(CASES)('%s', (_what, inputs, message) => {
    expect(refusal(inputs)).toMatch(message);
  });

  it('accepts the same inputs once the problem is gone', () => {
    expect(buildSignConfig(VALID).files.files).toEqual(['a.exe']);
    expect(buildSignConfig({ ...VALID, files: [] }, ['b.exe']).files.files).toEqual(['b.exe']);
  });
});

describe('Action inputs', () => {
  const name = 'INPUT_SKIP-SIGNED';
  afterEach(() => {
    delete process.env[name];
  });

  it('names a boolean input that is neither true nor false', () => {
    process.env[name] = 'yes';
    expect(() => readActionInputs()).toThrow(
      new UserError('skip-signed: "yes" is not a boolean; give true or false'),
    );
  });

  it('reads the booleans the runner accepts', () => {
    process.env[name] = 'True';
    expect(readActionInputs()['skip-signed']).toBe(true);
    process.env[name] = 'FALSE';
    expect(readActionInputs()['skip-signed']).toBe(false);
  });
});
