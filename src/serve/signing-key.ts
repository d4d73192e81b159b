import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import type { HashAlgorithm } from '../authenticode/algorithms.js';
import type { Inputs } from '../config/inputs.js';
import { UserError } from '../errors.js';
import { verifyDigestSignature } from '../signers/digest-signature.js';
import { readAdditionalCertificates } from '../signers/issuer-chain.js';
import type { ReadySigner } from '../signers/key-store.js';
import { chooseKeyStore } from '../signers/key-stores.js';
import type { DigestSignature } from '../signers/signer.js';

/** The one key the server signs with, opened once: any key store of the registry. */
export interface ServedKey {
  readonly ready: ReadySigner;
  /** The chain of the latest signature (a key store such as Artifact Signing changes it). */
  chain(): readonly Buffer[];
  /** `signal`: the caller hung up; a key store that queues (a token) then drops the digest. */
  sign(hash: HashAlgorithm, digest: Buffer, signal?: AbortSignal): Promise<DigestSignature>;
}

/**
 * Opens the key store the config's `key` names, as a signing run would, and signs one probe digest:
 * the key works and its certificate chain is known before the first caller is served.
 */
export async function openServedKey(
  inputs: Inputs,
  env: NodeJS.ProcessEnv,
  notes: string[],
): Promise<ServedKey> {
  const { configured } = chooseKeyStore(inputs, notes);
  const extra = inputs['additional-certificates'];
  const additionalCertificates = extra ? await readAdditionalCertificates(extra) : undefined;
  // A server has no job to mask secrets in, and no workflow to ask for an ID token.
  const ready = await configured.open({ env, mask: () => undefined, additionalCertificates });
  notes.push(...ready.warnings);
  try {
    const sign = (hash: HashAlgorithm, digest: Buffer, signal?: AbortSignal) =>
      ready.signer.signDigest(hash, digest, signal);
    const probe = createHash('sha256').update(randomBytes(32)).digest();
    const first = await sign('sha256', probe);
    const leaf = new X509Certificate(first.certificates[0]);
    if (!verifyDigestSignature(leaf.publicKey, 'sha256', probe, first.signature))
      throw new UserError(`${ready.description}: a probe signature does not verify with its certificate`);
    let chain = first.certificates;
    return {
      ready,
      chain: () => chain,
      async sign(hash, digest, signal) {
        const answer = await sign(hash, digest, signal);
        chain = answer.certificates;
        return answer;
      },
    };
  } catch (error) {
    await ready.close?.();
    throw error;
  }
}
