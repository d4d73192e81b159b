import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { promisify } from 'node:util';
import { buildOnce } from './build-once.js';
import { CACHE } from './paths.js';
import { CA_SECTIONS } from './openssl-ca-sections.js';

const run = promisify(execFile);

export const PFX_PASSWORD = 'pfx-test-password';
/**
 * Where the AIA leaf says its issuer can be fetched: a test serves the intermediate there. Below
 * Linux's ephemeral range (32768+), so no outgoing connection of another test can hold the port.
 */
export const AIA_PORT = 28917;

/** Paths of the test PKI: one root, an intermediate, code-signing leaves, a TSA and an unrelated root. */
export interface TestPki {
  dir: string;
  rootCa: string;
  rootKey: string;
  intermediateCa: string;
  intermediateKey: string;
  otherRoot: string;
  otherRootKey: string;
  /** `openssl ts -reply -config` file. Its serial file is in `dir`: parallel responders use their own (see tsa-server.ts). */
  tsaConfig: string;
  tsaCert: string;
  tsaKey: string;
  /** TSA certificate then the intermediate. */
  tsaChain: string;
  /** A certificate like the TSA's but without the time-stamping extended key usage (RFC 3161 §2.3). */
  tsaWithoutEku: { cert: string; key: string };
  /** Leaf certificate, key and chain (leaf + intermediate) per key name. */
  leaves: Record<LeafName, { cert: string; key: string; chain: string; pfx: string }>;
  rsaPkcs1Key: string;
  ecSec1Key: string;
  rsaLegacyPfx: string;
  /** Of every PFX here. */
  pfxPassword: string;
  rsa1024: { cert: string; key: string };
  /** Server certificate for localhost and *.vault.azure.net, and the CA that issued it. */
  https: { ca: string; cert: string; key: string };
  /** A leaf whose Authority Information Access names http://127.0.0.1:AIA_PORT/intermediate-ca.cer. */
  aia: { cert: string; key: string; issuerDer: string };
}

export type LeafName = 'rsa' | 'rsa4096' | 'ec' | 'ec384' | 'ec521';

const LEAVES: Record<LeafName, string[]> = {
  rsa: ['-newkey', 'rsa:2048'],
  rsa4096: ['-newkey', 'rsa:4096'],
  ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  ec384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  ec521: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-521'],
};

const EXTENSIONS = `${CA_SECTIONS}[codesign]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[codesign_aia]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
authorityInfoAccess = caIssuers;URI:http://127.0.0.1:${AIA_PORT}/intermediate-ca.cer
[https]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:*.vault.azure.net, IP:127.0.0.1
[tsa]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa_no_eku]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function tsaConfig(dir: string): string {
  return `
[tsa]
default_tsa = tsa_config1
[tsa_config1]
dir = ${dir}
serial = $dir/tsa-serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/intermediate-ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha1, sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;
}

async function build(dir: string): Promise<void> {
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await writeFile(join(dir, 'extensions.cnf'), EXTENSIONS);
  const root = async (name: string, subject: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
      '-days',
      '3650',
      '-subj',
      subject,
      '-config',
      'extensions.cnf',
      '-extensions',
      'ca',
    );
  const issue = async (name: string, keyArgs: string[], subject: string, issuer: string, section: string) => {
    await openssl(
      'req',
      '-new',
      ...keyArgs,
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
      '-config',
      'extensions.cnf',
    );
    await openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.pem`,
      '-CAkey',
      `${issuer}.key`,
      '-CAcreateserial',
      '-days',
      '3650',
      '-sha256',
      '-extfile',
      'extensions.cnf',
      '-extensions',
      section,
      '-out',
      `${name}.pem`,
    );
  };
  await root('root-ca', '/CN=vaultsign Test Root CA/O=vaultsign tests');
  await root('other-root', '/CN=Unrelated Root CA/O=elsewhere');
  await issue(
    'intermediate-ca',
    ['-newkey', 'rsa:2048'],
    '/CN=vaultsign Test Code Signing CA/O=vaultsign tests',
    'root-ca',
    'intermediate',
  );
  const intermediate = await readFile(join(dir, 'intermediate-ca.pem'), 'utf8');
  for (const [name, keyArgs] of Object.entries(LEAVES)) {
    await issue(
      name,
      keyArgs,
      `/CN=vaultsign test signer ${name}/O=vaultsign tests`,
      'intermediate-ca',
      'codesign',
    );
    const leaf = await readFile(join(dir, `${name}.pem`), 'utf8');
    await writeFile(join(dir, `${name}-chain.pem`), leaf + intermediate);
    await openssl(
      'pkcs12',
      '-export',
      '-in',
      `${name}.pem`,
      '-inkey',
      `${name}.key`,
      '-certfile',
      'intermediate-ca.pem',
      '-out',
      `${name}.pfx`,
      '-passout',
      `pass:${PFX_PASSWORD}`,
    );
  }
  await issue(
    'aia',
    ['-newkey', 'rsa:2048'],
    '/CN=vaultsign test signer with AIA/O=vaultsign tests',
    'intermediate-ca',
    'codesign_aia',
  );
  await openssl('x509', '-in', 'intermediate-ca.pem', '-outform', 'DER', '-out', 'intermediate-ca.cer');
  await issue('rsa1024', ['-newkey', 'rsa:1024'], '/CN=weak signer', 'intermediate-ca', 'codesign');
  // Triple DES for keys and certificates with a SHA-1 MAC: what Windows exports as "TripleDES-SHA1".
  // Not `-legacy`, whose RC2-40 certificate bag vaultsign refuses on purpose (and OpenSSL 3 needs a provider for).
  await openssl(
    'pkcs12',
    '-export',
    '-keypbe',
    'PBE-SHA1-3DES',
    '-certpbe',
    'PBE-SHA1-3DES',
    '-macalg',
    'sha1',
    '-in',
    'rsa.pem',
    '-inkey',
    'rsa.key',
    '-certfile',
    'intermediate-ca.pem',
    '-out',
    'rsa-legacy.pfx',
    '-passout',
    `pass:${PFX_PASSWORD}`,
  );
  await openssl('pkey', '-in', 'rsa.key', '-traditional', '-out', 'rsa-pkcs1.key');
  await openssl('ec', '-in', 'ec.key', '-out', 'ec-sec1.key');
  await issue(
    'tsa',
    ['-newkey', 'rsa:2048'],
    '/CN=vaultsign Test TSA/O=vaultsign tests',
    'intermediate-ca',
    'tsa',
  );
  await issue(
    'tsa-no-eku',
    ['-newkey', 'rsa:2048'],
    '/CN=vaultsign Test TSA without EKU/O=vaultsign tests',
    'intermediate-ca',
    'tsa_no_eku',
  );
  await writeFile(join(dir, 'tsa-chain.pem'), (await readFile(join(dir, 'tsa.pem'), 'utf8')) + intermediate);
  await writeFile(join(dir, 'tsa-serial'), '01\n');
  // HTTPS for the cloud emulators (Entra ID, Key Vault, GitHub OIDC), trusted through NODE_EXTRA_CA_CERTS.
  await root('https-ca', '/CN=vaultsign Test HTTPS CA/O=vaultsign tests');
  await issue('https', ['-newkey', 'rsa:2048'], '/CN=localhost/O=vaultsign tests', 'https-ca', 'https');
}

function describe(dir: string): TestPki {
  const leaf = (name: LeafName) => ({
    cert: join(dir, `${name}.pem`),
    key: join(dir, `${name}.key`),
    chain: join(dir, `${name}-chain.pem`),
    pfx: join(dir, `${name}.pfx`),
  });
  return {
    dir,
    rootCa: join(dir, 'root-ca.pem'),
    rootKey: join(dir, 'root-ca.key'),
    intermediateCa: join(dir, 'intermediate-ca.pem'),
    intermediateKey: join(dir, 'intermediate-ca.key'),
    otherRoot: join(dir, 'other-root.pem'),
    otherRootKey: join(dir, 'other-root.key'),
    tsaConfig: join(dir, 'tsa.cnf'),
    tsaCert: join(dir, 'tsa.pem'),
    tsaKey: join(dir, 'tsa.key'),
    tsaChain: join(dir, 'tsa-chain.pem'),
    tsaWithoutEku: { cert: join(dir, 'tsa-no-eku.pem'), key: join(dir, 'tsa-no-eku.key') },
    leaves: {
      rsa: leaf('rsa'),
      rsa4096: leaf('rsa4096'),
      ec: leaf('ec'),
      ec384: leaf('ec384'),
      ec521: leaf('ec521'),
    },
    rsaPkcs1Key: join(dir, 'rsa-pkcs1.key'),
    ecSec1Key: join(dir, 'ec-sec1.key'),
    rsaLegacyPfx: join(dir, 'rsa-legacy.pfx'),
    pfxPassword: PFX_PASSWORD,
    rsa1024: { cert: join(dir, 'rsa1024.pem'), key: join(dir, 'rsa1024.key') },
    https: { ca: join(dir, 'https-ca.pem'), cert: join(dir, 'https.pem'), key: join(dir, 'https.key') },
    aia: {
      cert: join(dir, 'aia.pem'),
      key: join(dir, 'aia.key'),
      issuerDer: join(dir, 'intermediate-ca.cer'),
    },
  };
}

/** Every file the PKI promises: a cache missing any of them (an older layout) is rebuilt. */
function filesOf(pki: TestPki): string[] {
  const files: string[] = [];
  const collect = (value: unknown): void => {
    if (typeof value === 'string') {
      if (value.startsWith(pki.dir + sep)) files.push(value);
    } else if (typeof value === 'object' && value !== null) {
      Object.values(value).forEach(collect);
    }
  };
  collect(pki);
  return files;
}

/** Builds the PKI once under .cache/; concurrent callers wait for one build (see buildOnce). */
export async function ensureTestPki(): Promise<TestPki> {
  // The AIA port is written into a certificate: another port is another PKI.
  const pki = describe(join(CACHE, `pki-${AIA_PORT}`));
  await buildOnce(
    pki.dir,
    () => filesOf(pki),
    async (scratch) => {
      await build(scratch);
      // The TSA config names its folder, so it is written for the final place.
      await writeFile(join(scratch, 'tsa.cnf'), tsaConfig(pki.dir));
    },
  );
  return pki;
}

/** The CLI flags that sign with a leaf of the test PKI (its chain and its PEM key). */
export function keyFlags(pki: TestPki, leaf: LeafName = 'rsa'): string[] {
  return ['--certificate-file', pki.leaves[leaf].chain, '--private-key-file', pki.leaves[leaf].key];
}
