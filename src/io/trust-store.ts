import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { pemBlocks } from './pem.js';

/** The usual system CA bundles: Debian/Ubuntu, RHEL/Fedora, macOS/Alpine. Node 20 has no API for them. */
const SYSTEM_BUNDLES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

function parse(text: string): X509Certificate[] {
  return pemBlocks(text, 'CERTIFICATE').map((der) => new X509Certificate(der));
}

/** Node's bundled roots plus the first system bundle found (a missing bundle is not an error). */
export async function systemAnchors(): Promise<X509Certificate[]> {
  const anchors = rootCertificates.map((pem) => new X509Certificate(pem));
  for (const path of SYSTEM_BUNDLES) {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text !== undefined) return anchors.concat(parse(text));
  }
  return anchors;
}

/** The PEM certificates of a user-given CA file; refuses an unreadable or empty one. */
export async function fileAnchors(
  caFile: string,
  fail: (message: string) => Error,
): Promise<X509Certificate[]> {
  const text = await readFile(caFile, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw fail(`ca-file ${caFile}: cannot read it (${error.code ?? error.message})`);
  });
  const anchors = parse(text);
  if (anchors.length === 0) throw fail(`ca-file ${caFile}: no PEM certificates in it`);
  return anchors;
}
