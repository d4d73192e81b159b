// The demo: sign the committed sample binaries with a throwaway certificate, then verify them.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const work = mkdtempSync(join(tmpdir(), 'vaultsign-demo-'));
const openssl = (...args) =>
  execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });

console.log(`Working in ${work}\n\nMaking a throwaway root and code-signing certificate with openssl…`);
openssl(
  'req',
  '-x509',
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  'root.key',
  '-out',
  'root.pem',
  '-days',
  '2',
  '-subj',
  '/CN=vaultsign demo root',
  '-addext',
  'basicConstraints=critical,CA:TRUE',
  '-addext',
  'keyUsage=critical,keyCertSign,cRLSign',
);
openssl(
  'req',
  '-newkey',
  'rsa:3072',
  '-nodes',
  '-keyout',
  'signer.key',
  '-out',
  'signer.csr',
  '-subj',
  '/CN=vaultsign demo signer',
);
writeFileSync(join(work, 'signer.ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n');
openssl(
  'x509',
  '-req',
  '-in',
  'signer.csr',
  '-CA',
  'root.pem',
  '-CAkey',
  'root.key',
  '-CAcreateserial',
  '-days',
  '1',
  '-extfile',
  'signer.ext',
  '-out',
  'signer.pem',
);

const samples = readdirSync('samples').filter((f) => /\.(exe|dll)$/.test(f));
for (const sample of samples) copyFileSync(join('samples', sample), join(work, sample));
const files = samples.map((s) => join(work, s));

const cli = (...args) => {
  console.log(`\n$ vaultsign ${args.map((a) => a.replace(work, '$DEMO')).join(' ')}`);
  return spawnSync(process.execPath, ['dist/cli.js', ...args], { stdio: 'inherit' }).status;
};
let failed = cli(
  'sign',
  '--certificate-file',
  join(work, 'signer.pem'),
  '--private-key-file',
  join(work, 'signer.key'),
  '--timestamp-rfc3161',
  'none',
  '--description',
  'vaultsign demo',
  ...files,
);
failed ||= cli('verify', '--ca-file', join(work, 'root.pem'), ...files);

const osslsigncode = spawnSync('osslsigncode', ['--version']).status === 0;
if (osslsigncode) {
  console.log('\nIndependent check with osslsigncode verify:');
  for (const file of files) {
    const run = spawnSync('osslsigncode', ['verify', '-CAfile', join(work, 'root.pem'), '-in', file], {
      encoding: 'utf8',
    });
    console.log(`  ${run.status === 0 ? 'Succeeded' : 'FAILED'}  ${file.replace(work, '$DEMO')}`);
    failed ||= run.status;
  }
}
process.exitCode = failed ? 1 : 0;
