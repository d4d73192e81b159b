import type { InputSpec } from '../../config/inputs.js';

/** The inputs of a key on a USB token or HSM, reached through the vendor's PKCS#11 library. */
export const PKCS11_INPUTS = {
  'pkcs11-module': {
    kind: 'string',
    value: 'PATH',
    description:
      "PKCS#11 key: path of the token's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so or C:\\Windows\\System32\\eTPKCS11.dll",
  },
  'pkcs11-slot': {
    kind: 'string',
    value: 'ID',
    description: 'PKCS#11 key: slot ID of the token (decimal or 0x hex; default: the only token present)',
  },
  'pkcs11-token-label': {
    kind: 'string',
    value: 'LABEL',
    description: 'PKCS#11 key: label of the token (instead of pkcs11-slot)',
  },
  'pkcs11-key-id': {
    kind: 'string',
    value: 'HEX',
    description: 'PKCS#11 key: CKA_ID of the private key, in hex',
  },
  'pkcs11-key-label': {
    kind: 'string',
    value: 'LABEL',
    description: 'PKCS#11 key: label of the private key (instead of pkcs11-key-id)',
  },
  'pkcs11-pin': {
    kind: 'string',
    value: 'PIN',
    secret: true,
    description:
      "PKCS#11 key: the token's user PIN (CLI: or VAULTSIGN_PKCS11_PIN); a wrong one is tried once only",
  },
  'pkcs11-pin-file': {
    kind: 'string',
    value: 'PATH',
    description:
      'PKCS#11 key: a file holding the PIN on its first line (instead of pkcs11-pin; keep it mode 0600), masked once read',
  },
} as const satisfies Record<string, InputSpec>;
