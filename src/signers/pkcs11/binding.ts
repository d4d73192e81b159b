import type * as Pkcs11js from 'pkcs11js';
import { messageOf, UserError } from '../../errors.js';

export type Pkcs11Binding = typeof Pkcs11js;

/**
 * pkcs11js, loaded only when a PKCS#11 key is used: its native part is built for one OS and
 * architecture, and the Action and CLI must start on every runner whatever happens here.
 */
export async function loadPkcs11Binding(): Promise<Pkcs11Binding> {
  try {
    const loaded = (await import('pkcs11js')) as Pkcs11Binding & { default?: Pkcs11Binding };
    return loaded.default ?? loaded;
  } catch (error) {
    throw new UserError(
      `PKCS#11 signing cannot start: the native pkcs11js binding did not load on ${process.platform}-${process.arch} (${messageOf(error).split('\n')[0]}); PKCS#11 needs that binding built for this OS and architecture: use a vaultsign built on this platform, or another key store`,
    );
  }
}
