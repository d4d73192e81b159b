import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { HashAlgorithm } from '../authenticode/algorithms.js';
import { UserError } from '../errors.js';
import { pemBlocks } from '../io/pem.js';
import { curveOf, ecdsaSignDigest, rsaDigestInfo } from './digest-signature.js';
import { readPfx } from './pfx.js';
import { RsaThreads } from './rsa-threads.js';
import type { KeyType, Signer } from './signer.js';

/** A local key's signer, with what was read from its files: the ordered chain and the key type. */
export interface LocalSigner extends Signer {
  readonly certificates: readonly Buffer[];
  readonly keyType: KeyType;
}

/** A key on disk or in secrets: PEM certificate chain + PEM key, or one PKCS#12 (as a file or base64 text). */
export type LocalKeyOptions =
  | { readonly certificateFile: string; readonly privateKeyFile: string }
  | { readonly pfxFile: string; readonly pfxPassword: string }
  | { readonly pfxBase64: string; readonly pfxPassword: string }
  | { readonly certificate: string; readonly privateKey: string };

export async function readInput(path: string, what: string): Promise<Buffer> {
  return readFile(path).catch((error: NodeJS.ErrnoException) => {
    const why = error.code === 'ENOENT' ? 'no such file' : `cannot read it (${error.code ?? error.message})`;
    throw new UserError(`${what} ${path}: ${why}`);
  });
}

/** `what` names the source in messages: "certificate-file PATH" or "certificate". */
export function certificatesFrom(data: Buffer, what: string): Buffer[] {
  const text = data.toString('latin1');
  const blocks = text.includes('-----BEGIN') ? pemBlocks(text, 'CERTIFICATE') : [data];
  if (blocks.length === 0) throw new UserError(`${what}: no PEM CERTIFICATE block in it`);
  for (const der of blocks) {
    try {
      new X509Certificate(der);
    } catch {
      throw new UserError(`${what}: holds something that is not an X.509 certificate`);
    }
  }
  return blocks;
}

/** `what` names the source in messages: "private-key-file PATH" or "private-key"; never the key itself. */
function keyFrom(data: Buffer, what: string): KeyObject {
  const text = data.toString('latin1');
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new UserError(
      `${what}: the key is encrypted; decrypt it (openssl pkey -in KEY -out PLAIN) or use a PFX with pfx-password`,
    );
  }
  try {
    return createPrivateKey(text.includes('-----BEGIN') ? data : { key: data, format: 'der', type: 'pkcs8' });
  } catch {
    throw new UserError(`${what}: not a PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC)`);
  }
}

/** A PFX kept as base64 text (a GitHub secret holds text): line breaks and spaces allowed, nothing else. */
function pfxFromBase64(text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw new UserError(
      'pfx-base64: not base64 text; give the PFX file encoded with base64 (e.g. base64 -w0 cert.pfx)',
    );
  }
  return Buffer.from(compact, 'base64');
}

function keyType(key: KeyObject, source: string): KeyType {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0;
    if (bits < 2048 || bits > 4096)
      throw new UserError(`${source}: RSA keys of 2048 to 4096 bits are supported, this one has ${bits}`);
    return 'RSA';
  }
  if (curveOf(key)) return 'EC';
  const kind =
    key.asymmetricKeyType === 'ec' ? `EC key on ${details.namedCurve}` : `${key.asymmetricKeyType} key`;
  throw new UserError(`${source}: ${kind} is not supported (use RSA 2048–4096, ECDSA P-256, P-384 or P-521)`);
}

const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });

/** The leaf (the certificate of `key`) first, then each issuer in turn, then any others. */
function orderChain(key: KeyObject, certificates: Buffer[], source: string): Buffer[] {
  const parsed = certificates.map((der) => ({ der, x509: new X509Certificate(der) }));
  const publicKey = spki(createPublicKey(key));
  const leaf = parsed.find((c) => spki(c.x509.publicKey).equals(publicKey));
  if (!leaf) throw new UserError(`${source}: no certificate in it matches the private key`);
  const chain = [leaf];
  for (let current = leaf; ;) {
    const issuer = parsed.find((c) => !chain.includes(c) && current.x509.checkIssued(c.x509));
    if (!issuer) break;
    chain.push(issuer);
    current = issuer;
  }
  return [...chain, ...parsed.filter((c) => !chain.includes(c))].map((c) => c.der);
}

/** A signer whose key is in a local file: for development, tests and self-hosted internal signing. */
export async function loadLocalSigner(options: LocalKeyOptions): Promise<LocalSigner> {
  let key: KeyObject;
  let certificates: Buffer[];
  let source: string;
  if ('pfxFile' in options) {
    source = `pfx-file ${options.pfxFile}`;
    ({ key, certificates } = await readPfx(
      await readInput(options.pfxFile, 'pfx-file'),
      options.pfxPassword,
      source,
    ));
  } else if ('pfxBase64' in options) {
    source = 'pfx-base64';
    ({ key, certificates } = await readPfx(pfxFromBase64(options.pfxBase64), options.pfxPassword, source));
  } else if ('certificate' in options) {
    source = 'certificate with private-key';
    certificates = certificatesFrom(Buffer.from(options.certificate), 'certificate');
    key = keyFrom(Buffer.from(options.privateKey), 'private-key');
  } else {
    source = `certificate-file ${options.certificateFile} with private-key-file ${options.privateKeyFile}`;
    certificates = certificatesFrom(
      await readInput(options.certificateFile, 'certificate-file'),
      `certificate-file ${options.certificateFile}`,
    );
    key = keyFrom(
      await readInput(options.privateKeyFile, 'private-key-file'),
      `private-key-file ${options.privateKeyFile}`,
    );
  }
  const type = keyType(key, source);
  const chain = orderChain(key, certificates, source);
  const rsa = type === 'RSA' ? new RsaThreads(key) : undefined;
  return {
    certificates: chain,
    keyType: type,
    async signDigest(hash: HashAlgorithm, digest: Buffer) {
      const signature = rsa
        ? await rsa.sign(rsaDigestInfo(hash, digest))
        : ecdsaSignDigest(key, hash, digest);
      return { signature, certificates: chain };
    },
  };
}
