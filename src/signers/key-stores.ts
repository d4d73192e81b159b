import type { Inputs } from '../config/inputs.js';
import { UserError } from '../errors.js';
import { artifactSigningKeyStore } from './artifact-signing/key-store.js';
import type { ConfiguredKeyStore, KeyStore } from './key-store.js';
import { keyVaultKeyStore } from './key-vault-key-store.js';
import { localKeyStore } from './local-key-store.js';
import { pkcs11KeyStore } from './pkcs11/key-store.js';
import { signingServerKeyStore } from './signing-server/key-store.js';

/** Every key store; each is chosen by its own inputs. */
export const KEY_STORES: readonly KeyStore[] = [
  localKeyStore,
  keyVaultKeyStore,
  artifactSigningKeyStore,
  pkcs11KeyStore,
  signingServerKeyStore,
];

const given = (inputs: Inputs, store: KeyStore) => store.inputs.filter((name) => inputs[name]);
const named = (store: KeyStore, names: readonly string[]) => `${store.name} (${names.join(', ')})`;

/** The one key store the inputs name, its inputs checked; none or several is an error that lists them. */
export function chooseKeyStore(
  inputs: Inputs,
  notes: string[],
): { store: KeyStore; configured: ConfiguredKeyStore } {
  const present = KEY_STORES.map((store) => ({ store, names: given(inputs, store) })).filter(
    (c) => c.names.length > 0,
  );
  // An input another named key store borrows (certificate-file with PKCS#11) names only the borrower.
  const borrowed = new Set(present.flatMap((c) => c.store.borrows ?? []));
  const chosen = present.filter((c) => c.names.some((name) => !borrowed.has(name)));
  if (chosen.length > 1) {
    throw new UserError(
      `the inputs name ${chosen.length} key stores: ${chosen.map((c) => named(c.store, c.names)).join(' and ')}; give the inputs of one`,
    );
  }
  if (chosen.length === 0) {
    throw new UserError(
      `no signing key: give the inputs of one key store: ${KEY_STORES.map((s) => named(s, s.inputs)).join('; ')}`,
    );
  }
  const { store } = chosen[0];
  return { store, configured: store.configure(inputs, notes) };
}
