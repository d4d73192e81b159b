import type { X509Certificate } from 'node:crypto';
import type { InputName, Inputs } from '../config/inputs.js';
import type { CredentialEnvironment } from '../credentials/azure-credential.js';
import type { Signer } from './signer.js';

/** What opening a key store may use: the run's surroundings, its deadline and the shared inputs. */
export interface KeyStoreContext extends CredentialEnvironment {
  /** The run's deadline: cancels the set-up's network calls. */
  readonly signal?: AbortSignal;
  /** additional-certificates, already read: certificates to add to every chain. */
  readonly additionalCertificates?: readonly Buffer[];
}

export interface ReadySigner {
  readonly signer: Signer;
  /** The signing certificate when it is known before signing (one per run); else each signature brings its own. */
  readonly certificate?: X509Certificate;
  /** What the run should warn about (e.g. a chain it could not complete). */
  readonly warnings: string[];
  readonly description: string;
  /** Releases what the key store holds (a token session), once the run is over. */
  close?(): Promise<void>;
}

/** How a key store's certificates bear on timestamps. */
export interface TimestampRule {
  /** Why a timestamp is required with this key store (then timestamp-rfc3161: none is refused). */
  readonly requiredBecause?: string;
  /** Timestamp services tried before the default list. */
  readonly preferredUrls?: readonly string[];
}

/** A key store with its inputs checked: opened once the run starts. */
export interface ConfiguredKeyStore {
  readonly timestamp?: TimestampRule;
  /** Signs in, reads and checks the certificate: ready before any file is touched. */
  open(context: KeyStoreContext): Promise<ReadySigner>;
}

/**
 * Where signing keys live (a local file, Azure Key Vault, Artifact Signing, …): one module each, listed
 * in key-stores.ts. A key store is chosen by its inputs, so the pipeline and the Authenticode core
 * never name one.
 */
export interface KeyStore {
  /** As the user knows it, e.g. "Azure Key Vault". */
  readonly name: string;
  /** Inputs that name this key store: giving any of them chooses it. */
  readonly inputs: readonly InputName[];
  /** Other key stores' inputs this one reads too (e.g. certificate-file): given with its own, they name only it. */
  readonly borrows?: readonly InputName[];
  /** Checks the inputs (before any file is touched); `notes` gathers what the user should hear. */
  configure(inputs: Inputs, notes: string[]): ConfiguredKeyStore;
}

/** `certificates` with `extra` added (those it does not hold already). */
export function withCertificates(certificates: readonly Buffer[], extra: readonly Buffer[] = []): Buffer[] {
  return [...certificates, ...extra.filter((der) => !certificates.some((held) => held.equals(der)))];
}
