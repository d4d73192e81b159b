import type { X509Certificate } from 'node:crypto';
import { basename } from 'node:path';
import type { HashAlgorithm } from '../authenticode/algorithms.js';
import { createSignature, type SignatureText } from '../authenticode/create-signature.js';
import { encoded } from '../authenticode/der.js';
import { OID } from '../authenticode/oids.js';
import { AuthenticodeSignature } from '../authenticode/signature.js';
import { requestTimestamp } from '../authenticode/timestamp-client.js';
import { UserError, messageOf } from '../errors.js';
import { openSignable } from '../formats/open-file.js';
import { asEditFailure, Replacement } from '../io/replace-file.js';
import { saveSignedFile } from '../io/save-signed-file.js';
import { thumbprint } from '../signers/certificate-checks.js';
import type { Signer } from '../signers/signer.js';

export type ExistingSignature = 'replace' | 'append' | 'skip';

export interface TimestampSettings {
  readonly urls: readonly string[];
  readonly digest: HashAlgorithm;
}

export interface SignSettings extends SignatureText {
  readonly fileDigest: HashAlgorithm;
  /** Undefined: no timestamp. */
  readonly timestamp?: TimestampSettings;
  readonly existing: ExistingSignature;
  readonly pageHashes: boolean;
}

/** A certificate that made a signature, as the outputs show it. */
export interface SigningCertificate {
  /** SHA-1, upper-case hex without separators, as Windows shows it. */
  readonly thumbprint: string;
  readonly subject: string;
}

export function signingCertificate(certificate: X509Certificate): SigningCertificate {
  return { thumbprint: thumbprint(certificate), subject: certificate.subject.replace(/\n/g, ', ') };
}

export interface SignOutcome {
  /** would-sign: a dry run found nothing that stops the real run from signing the file. */
  readonly status: 'signed' | 'skipped' | 'would-sign';
  readonly detail: string;
  readonly timestamp?: Date;
  /** The certificate of the new signature. */
  readonly certificate?: SigningCertificate;
  /** Bytes before signing. */
  readonly size: number;
  /** The file's format, as the registry names it ("PE", "MSI", …). */
  readonly format: string;
}

function existingSignature(der: Buffer, setting: string): AuthenticodeSignature {
  try {
    return AuthenticodeSignature.fromDer(der);
  } catch (error) {
    throw new UserError(
      `its existing signature cannot be read (${messageOf(error)}); sign without ${setting} to replace it`,
    );
  }
}

export interface SignRunOptions {
  readonly signal?: AbortSignal;
  /** Every check up to the remote signature (format, existing signature, skip rules, digest); no change. */
  readonly dryRun?: boolean;
}

/** Signs one file: local digest, remote signature, timestamp, then a safe rewrite of the file. */
export async function signFile(
  path: string,
  signer: Signer,
  settings: SignSettings,
  { signal, dryRun }: SignRunOptions = {},
): Promise<SignOutcome> {
  const opened = await openSignable(path);
  let replacement: Replacement | undefined;
  try {
    const { file, size } = opened;
    const { format } = file;
    if (file.signature && settings.existing === 'skip') {
      // Only a signature that parses cleanly counts as signed; a damaged one fails the file, untouched.
      existingSignature(file.signature, 'skip-signed');
      return { status: 'skipped', detail: 'already signed (skip-signed)', size, format };
    }
    const primary =
      file.signature && settings.existing === 'append'
        ? existingSignature(file.signature, 'append-signature')
        : undefined;

    const how = primary
      ? 'appended as a nested signature'
      : file.signature
        ? 'signature replaced'
        : 'new signature';
    if (dryRun) {
      await file.indirectData(settings.fileDigest, { pageHashes: settings.pageHashes });
      return { status: 'would-sign', detail: `would be signed: ${how}`, size, format };
    }
    // A file rewritten whole gets its new file now: the digest writes most of it as it reads the original.
    replacement = file.rewrittenWhole ? await Replacement.begin(path) : undefined;
    const indirect = await file
      .indirectData(settings.fileDigest, { pageHashes: settings.pageHashes, newFile: replacement?.handle })
      .catch((error: unknown) => {
        throw replacement && !(error instanceof UserError) ? asEditFailure(error) : error;
      });
    const { signature, leaf } = await createSignature(indirect, signer, settings, signal, basename(path));

    let timestamp: Date | undefined;
    if (settings.timestamp) {
      const result = await requestTimestamp(signature.signatureValue, {
        urls: [...settings.timestamp.urls],
        hash: settings.timestamp.digest,
        signal,
      });
      // Embedded as the TSA's bytes: decoding and re-encoding them would change nothing but the cost.
      signature.addUnsignedValue(OID.rfc3161Timestamp, encoded(result.token));
      timestamp = result.time;
    }

    let blob = signature.toDer();
    if (primary) {
      primary.addUnsignedValue(OID.nestedSignature, encoded(blob));
      blob = primary.toDer();
    }
    // Past this point the file is written to the end even if the deadline passes: never half a file.
    signal?.throwIfAborted();
    await saveSignedFile(path, await file.signatureEdit(blob), opened.state, opened.close, replacement);
    return {
      status: 'signed',
      detail: how,
      timestamp,
      certificate: signingCertificate(leaf),
      size,
      format,
    };
  } finally {
    // Not signed (a failure, a stop): the new file goes.
    await replacement?.discard();
    await opened.close();
  }
}
