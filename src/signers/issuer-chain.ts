import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as pkijs from 'pkijs';
import { UserError, messageOf } from '../errors.js';
import { boundedFetch, type ReplyLimits } from '../io/bounded-fetch.js';
import { printable } from '../io/http-error.js';
import { pemBlocks } from '../io/pem.js';

const MAX_ISSUERS = 5;

/** An issuer certificate or .p7c bundle is a few KB. */
export const AIA_REPLY_LIMITS: ReplyLimits = {
  maxBytes: 1 << 20,
  firstByteMs: 10_000,
  totalMs: 20_000,
  hint: 'is the URL in the certificate an issuer certificate?',
};

/** additional-certificates: PEM text, or the path of a PEM file. */
export async function readAdditionalCertificates(value: string): Promise<Buffer[]> {
  const text = value.includes('-----BEGIN')
    ? value
    : await readFile(value, 'utf8').catch((error: NodeJS.ErrnoException) => {
        const why =
          error.code === 'ENOENT' ? 'no such file' : `cannot read it (${error.code ?? error.message})`;
        throw new UserError(
          `additional-certificates ${value}: ${why}; give the path of a PEM file or the PEM text itself`,
        );
      });
  const certificates = pemBlocks(text, 'CERTIFICATE');
  if (certificates.length === 0)
    throw new UserError(
      `additional-certificates${value.includes('-----BEGIN') ? '' : ` ${value}`}: no PEM CERTIFICATE block in it; give the intermediate certificates as PEM`,
    );
  return certificates;
}

function caIssuersUrl(certificate: X509Certificate): string | undefined {
  return /CA Issuers - URI:(\S+)/.exec(certificate.infoAccess ?? '')?.[1];
}

/** A downloaded issuer: DER or PEM certificate, or a PKCS#7 bundle (.p7c). */
function certificatesIn(body: Buffer): Buffer[] {
  const text = body.toString('latin1');
  if (text.includes('-----BEGIN CERTIFICATE')) return pemBlocks(text, 'CERTIFICATE');
  try {
    return [Buffer.from(new X509Certificate(body).raw)];
  } catch {
    try {
      const signedData = new pkijs.SignedData({
        schema: pkijs.ContentInfo.fromBER(new Uint8Array(body)).content,
      });
      return (signedData.certificates ?? []).map((c) => Buffer.from(c.toSchema().toBER()));
    } catch {
      throw new Error('it is neither a certificate (DER or PEM) nor a PKCS#7 bundle');
    }
  }
}

/**
 * The intermediates above `leaf`, fetched through each certificate's Authority Information Access
 * URL, up to (not including) a self-signed root. Returns what it found and why it stopped early.
 */
export async function fetchIssuers(
  leaf: Buffer,
  options: { signal?: AbortSignal; limits?: Partial<ReplyLimits> } = {},
): Promise<{ issuers: Buffer[]; problem?: string }> {
  const issuers: Buffer[] = [];
  let current = new X509Certificate(leaf);
  for (let i = 0; i < MAX_ISSUERS; i++) {
    if (current.checkIssued(current)) return { issuers };
    const url = caIssuersUrl(current);
    if (!url) {
      // An intermediate without AIA is usually issued by a root, which verifiers hold themselves.
      if (issuers.length > 0) return { issuers };
      return {
        issuers,
        problem: `the certificate "${current.subject.replace(/\n/g, ', ')}" names no issuer URL (AIA)`,
      };
    }
    try {
      const body = await boundedFetch(url, {}, { ...AIA_REPLY_LIMITS, ...options.limits }, options.signal);
      const issuer = certificatesIn(body)
        .map((der) => new X509Certificate(der))
        .find((candidate) => current.checkIssued(candidate));
      if (!issuer) throw new Error('it holds no issuer of the certificate');
      if (issuer.checkIssued(issuer)) return { issuers };
      issuers.push(Buffer.from(issuer.raw));
      current = issuer;
    } catch (error) {
      // The run's deadline is not a problem of the chain: it ends the set-up.
      options.signal?.throwIfAborted();
      const why = messageOf(error);
      const problem = why.includes(url)
        ? `fetching the issuer failed: ${why}`
        : `fetching the issuer from ${url} failed: ${why}`;
      return { issuers, problem: printable(problem, 400) };
    }
  }
  return { issuers };
}
