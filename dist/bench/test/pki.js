import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE } from './paths.js';
const run = promisify(execFile);
export const PFX_PASSWORD = 'pfx-test-password';
/** Where the AIA leaf says its issuer can be fetched: a test serves the intermediate there. */
export const AIA_PORT = 38917;
const LEAVES = {
    rsa: ['-newkey', 'rsa:2048'],
    rsa4096: ['-newkey', 'rsa:4096'],
    ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'],
    ec384: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'],
};
const EXTENSIONS = `
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[codesign]
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
`;
function tsaConfig(dir) {
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
async function build(dir) {
    const openssl = (...args) => run('openssl', args, { cwd: dir });
    await writeFile(join(dir, 'extensions.cnf'), EXTENSIONS);
    const root = async (name, subject) => openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '3650', '-subj', subject, '-config', 'extensions.cnf', '-extensions', 'ca');
    const issue = async (name, keyArgs, subject, issuer, section) => {
        await openssl('req', '-new', ...keyArgs, '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject, '-config', 'extensions.cnf');
        await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '3650', '-sha256', '-extfile', 'extensions.cnf', '-extensions', section, '-out', `${name}.pem`);
    };
    await root('root-ca', '/CN=vaultsign Test Root CA/O=vaultsign tests');
    await root('other-root', '/CN=Unrelated Root CA/O=elsewhere');
    await issue('intermediate-ca', ['-newkey', 'rsa:2048'], '/CN=vaultsign Test Code Signing CA/O=vaultsign tests', 'root-ca', 'intermediate');
    const intermediate = await readFile(join(dir, 'intermediate-ca.pem'), 'utf8');
    for (const [name, keyArgs] of Object.entries(LEAVES)) {
        await issue(name, keyArgs, `/CN=vaultsign test signer ${name}/O=vaultsign tests`, 'intermediate-ca', 'codesign');
        const leaf = await readFile(join(dir, `${name}.pem`), 'utf8');
        await writeFile(join(dir, `${name}-chain.pem`), leaf + intermediate);
        await openssl('pkcs12', '-export', '-in', `${name}.pem`, '-inkey', `${name}.key`, '-certfile', 'intermediate-ca.pem', '-out', `${name}.pfx`, '-passout', `pass:${PFX_PASSWORD}`);
    }
    await issue('aia', ['-newkey', 'rsa:2048'], '/CN=vaultsign test signer with AIA/O=vaultsign tests', 'intermediate-ca', 'codesign_aia');
    await openssl('x509', '-in', 'intermediate-ca.pem', '-outform', 'DER', '-out', 'intermediate-ca.cer');
    await issue('rsa1024', ['-newkey', 'rsa:1024'], '/CN=weak signer', 'intermediate-ca', 'codesign');
    await openssl('pkcs12', '-export', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1', '-in', 'rsa.pem', '-inkey', 'rsa.key', '-certfile', 'intermediate-ca.pem', '-out', 'rsa-legacy.pfx', '-passout', `pass:${PFX_PASSWORD}`);
    await openssl('pkey', '-in', 'rsa.key', '-traditional', '-out', 'rsa-pkcs1.key');
    await openssl('ec', '-in', 'ec.key', '-out', 'ec-sec1.key');
    await issue('tsa', ['-newkey', 'rsa:2048'], '/CN=vaultsign Test TSA/O=vaultsign tests', 'intermediate-ca', 'tsa');
    await writeFile(join(dir, 'tsa-serial'), '01\n');
    // HTTPS for the cloud emulators (Entra ID, Key Vault, GitHub OIDC), trusted through NODE_EXTRA_CA_CERTS.
    await root('https-ca', '/CN=vaultsign Test HTTPS CA/O=vaultsign tests');
    await issue('https', ['-newkey', 'rsa:2048'], '/CN=localhost/O=vaultsign tests', 'https-ca', 'https');
}
function describe(dir) {
    const leaf = (name) => ({
        cert: join(dir, `${name}.pem`),
        key: join(dir, `${name}.key`),
        chain: join(dir, `${name}-chain.pem`),
        pfx: join(dir, `${name}.pfx`),
    });
    return {
        dir,
        rootCa: join(dir, 'root-ca.pem'),
        intermediateCa: join(dir, 'intermediate-ca.pem'),
        otherRoot: join(dir, 'other-root.pem'),
        tsaConfig: join(dir, 'tsa.cnf'),
        tsaCert: join(dir, 'tsa.pem'),
        leaves: { rsa: leaf('rsa'), rsa4096: leaf('rsa4096'), ec: leaf('ec'), ec384: leaf('ec384') },
        rsaPkcs1Key: join(dir, 'rsa-pkcs1.key'),
        ecSec1Key: join(dir, 'ec-sec1.key'),
        rsaLegacyPfx: join(dir, 'rsa-legacy.pfx'),
        rsa1024: { cert: join(dir, 'rsa1024.pem'), key: join(dir, 'rsa1024.key') },
        https: { ca: join(dir, 'https-ca.pem'), cert: join(dir, 'https.pem'), key: join(dir, 'https.key') },
        aia: {
            cert: join(dir, 'aia.pem'),
            key: join(dir, 'aia.key'),
            issuerDer: join(dir, 'intermediate-ca.cer'),
        },
    };
}
/** Builds the PKI once under .cache/pki (in a scratch folder renamed into place, so a half-built one never shows). */
export async function ensureTestPki() {
    const dir = join(CACHE, 'pki');
    // A cache from an older layout lacks the newer files: rebuild it whole.
    if (!['tsa.cnf', 'https.pem', 'aia.pem'].every((f) => existsSync(join(dir, f)))) {
        await rm(dir, { recursive: true, force: true });
        await mkdir(CACHE, { recursive: true });
        const scratch = await mkdtemp(join(CACHE, 'pki-'));
        await build(scratch);
        // The TSA config names its folder, so it is written for the final place.
        await writeFile(join(scratch, 'tsa.cnf'), tsaConfig(dir));
        await rename(scratch, dir).catch(async () => rm(scratch, { recursive: true, force: true }));
    }
    return describe(dir);
}
