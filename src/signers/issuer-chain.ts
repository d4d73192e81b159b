import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as pkijs from 'pkijs';
import { UserError } from '../errors.js';
import { pemBlocks } from '../io/pem.js';

const MAX_ISSUERS = 5;

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
    const signedData = new pkijs.SignedData({
      schema: pkijs.ContentInfo.fromBER(new Uint8Array(body)).content,
    });
    return (signedData.certificates ?? []).map((c) => Buffer.from(c.toSchema().toBER()));
  }
}

/**
 * The intermediates above `leaf`, fetched through each certificate's Authority Information Access
 * URL, up to (not including) a self-signed root. Returns what it found and why it stopped early.
 */
export async function fetchIssuers(
  leaf: Buffer,
  timeoutMs = 10_000,
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
      const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const issuer = certificatesIn(Buffer.from(await response.arrayBuffer()))
        .map((der) => new X509Certificate(der))
        .find((candidate) => current.checkIssued(candidate));
      if (!issuer) throw new Error('it holds no issuer of the certificate');
      if (issuer.checkIssued(issuer)) return { issuers };
      issuers.push(Buffer.from(issuer.raw));
      current = issuer;
    } catch (error) {
      return {
        issuers,
        problem: `fetching the issuer from ${url} failed: ${error instanceof Error ? error.message : error}`,
      };
    }
  }
  return { issuers };
}
