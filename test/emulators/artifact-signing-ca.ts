import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { buildOnce } from '../build-once.js';
import { CACHE } from '../paths.js';
import type { TestPki } from '../pki.js';
import { CA_SECTIONS } from '../openssl-ca-sections.js';

const run = promisify(execFile);

/** Marks every Artifact Signing leaf (research note §7). */
export const ARTIFACT_SIGNING_EKU = '1.3.6.1.4.1.311.97.1.0';
export const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';
/** Stands for the identity-validation EKU: four customer-specific arcs under 1.3.6.1.4.1.311.97, stable per identity. */
export const IDENTITY_EKU = '1.3.6.1.4.1.311.97.990309390.766961637.3415684819.1043510371';

const EXTENSIONS = `${CA_SECTIONS}[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = ${ARTIFACT_SIGNING_EKU}, codeSigning, ${IDENTITY_EKU}
certificatePolicies = 1.3.6.1.4.1.311.76.509.1.1, 2.23.140.1.4.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[server]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.codesigning.azure.net
`;

/** The emulated service's CA chain (root → intermediate) and its HTTPS certificate, all PEM paths. */
export interface ArtifactSigningCa {
  readonly dir: string;
  readonly root: string;
  readonly intermediate: string;
  readonly intermediateKey: string;
  /** For *.codesigning.azure.net, issued by the test PKI's HTTPS CA (trusted through NODE_EXTRA_CA_CERTS). */
  readonly server: { readonly cert: string; readonly key: string };
}

/** A certificate the emulator issued, with the key that signs for it. */
export interface Certificate {
  readonly der: Buffer;
  readonly x509: X509Certificate;
  /** SHA-1 of the DER, upper-case hex: what Windows and the service call the thumbprint. */
  readonly thumbprint: string;
}

export interface Leaf extends Certificate {
  readonly key: KeyObject;
}

function describe(dir: string): ArtifactSigningCa {
  return {
    dir,
    root: join(dir, 'root.pem'),
    intermediate: join(dir, 'intermediate.pem'),
    intermediateKey: join(dir, 'intermediate.key'),
    server: { cert: join(dir, 'server.pem'), key: join(dir, 'server.key') },
  };
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** `openssl req` that issues a certificate with a new key, self-signed or by `issuer`. */
function issueArgs(
  name: string,
  bits: number,
  subject: string,
  section: string,
  days: number,
  issuer?: { readonly cert: string; readonly key: string },
) {
  return [
    'req',
    '-x509',
    '-newkey',
    `rsa:${bits}`,
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-subj',
    subject,
    '-days',
    String(days),
    '-sha384',
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-config',
    'extensions.cnf',
    '-extensions',
    section,
    ...(issuer ? ['-CA', issuer.cert, '-CAkey', issuer.key] : []),
  ];
}

/**
 * The chain is built once per test PKI under .cache/ (RSA-4096 and 3072 key generation is slow); the
 * folder is named for the HTTPS CA, so a rebuilt test PKI gets a server certificate it trusts.
 */
export async function ensureArtifactSigningCa(pki: TestPki): Promise<ArtifactSigningCa> {
  const httpsCa = await readFile(pki.https.ca);
  const ca = describe(
    join(CACHE, `artifact-signing-${createHash('sha256').update(httpsCa).digest('hex').slice(0, 12)}`),
  );
  await buildOnce(
    ca.dir,
    () => [ca.root, ca.intermediate, ca.intermediateKey, ca.server.cert, ca.server.key],
    async (scratch) => {
      await writeFile(join(scratch, 'extensions.cnf'), EXTENSIONS);
      await openssl(
        scratch,
        ...issueArgs('root', 4096, '/CN=vaultsign Test Identity Verification Root CA', 'ca', 3650),
      );
      await openssl(
        scratch,
        ...issueArgs('intermediate', 3072, '/CN=vaultsign Test ID Verified CS EOC CA', 'intermediate', 3650, {
          cert: 'root.pem',
          key: 'root.key',
        }),
      );
      await writeFile(join(scratch, 'https-ca.pem'), httpsCa);
      await writeFile(join(scratch, 'https-ca.key'), await readFile(join(pki.dir, 'https-ca.key')));
      await openssl(
        scratch,
        ...issueArgs('server', 2048, '/CN=*.codesigning.azure.net', 'server', 3650, {
          cert: 'https-ca.pem',
          key: 'https-ca.key',
        }),
      );
      await rm(join(scratch, 'https-ca.key'));
    },
  );
  return ca;
}

function certificate(pem: string): Certificate {
  const x509 = new X509Certificate(pem);
  return { der: x509.raw, x509, thumbprint: x509.fingerprint.replaceAll(':', '') };
}

export async function loadCertificate(file: string): Promise<Certificate> {
  return certificate(await readFile(file, 'utf8'));
}

/** A new leaf (new RSA-3072 key, random serial) valid for 3 days from now, as the service issues daily. */
export async function issueLeaf(ca: ArtifactSigningCa, subject: string): Promise<Leaf> {
  const dir = await mkdtemp(join(tmpdir(), 'artifact-signing-leaf-'));
  try {
    await writeFile(join(dir, 'extensions.cnf'), EXTENSIONS);
    await openssl(
      dir,
      ...issueArgs('leaf', 3072, subject, 'leaf', 3, { cert: ca.intermediate, key: ca.intermediateKey }),
    );
    const pem = await readFile(join(dir, 'leaf.pem'), 'utf8');
    return { ...certificate(pem), key: createPrivateKey(await readFile(join(dir, 'leaf.key'))) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A certs-only PKCS#7 SignedData as the service returns it: eContent (id-data) is the leaf's DER, no
 * digest algorithms, no signers, and `certificates` in the order given.
 */
export function certificateBag(leaf: Certificate, certificates: readonly Certificate[]): Buffer {
  const signedData = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: '1.2.840.113549.1.7.1',
      eContent: new asn1js.OctetString({ valueHex: new Uint8Array(leaf.der).buffer }),
    }),
    digestAlgorithms: [],
    certificates: certificates.map((c) => pkijs.Certificate.fromBER(new Uint8Array(c.der))),
    signerInfos: [],
  });
  const contentInfo = new pkijs.ContentInfo({
    contentType: pkijs.ContentInfo.SIGNED_DATA,
    content: signedData.toSchema(true),
  });
  return Buffer.from(contentInfo.toSchema().toBER());
}

/** `signingCertificate` of a sign result: base64 of the bag's MIME base64 text (76-char lines, CRLF). */
export function doublyEncoded(bag: Buffer): string {
  const lines = bag.toString('base64').match(/.{1,76}/g) ?? [];
  return Buffer.from(lines.map((line) => `${line}\r\n`).join(''), 'ascii').toString('base64');
}
