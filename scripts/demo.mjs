// The demo: sign the committed sample binaries with a throwaway certificate and a timestamp from a
// loopback RFC 3161 responder (openssl ts -reply, not vaultsign's code), then verify them.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const work = mkdtempSync(join(tmpdir(), 'vaultsign-demo-'));
const openssl = (...args) =>
  execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });
let tsa;
try {
  await demo();
} catch (error) {
  console.error(`\nThe demo failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  tsa?.close();
  // The throwaway keys must not outlive the demo.
  rmSync(work, { recursive: true, force: true });
  console.log(`\nRemoved ${work} (keys, certificates, signed copies).`);
}

async function demo() {
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
  writeFileSync(
    join(work, 'signer.ext'),
    'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n',
  );
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

  const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
  if (!hasOpenssl)
    throw new Error(
      'openssl is not on PATH: the demo needs it to make its throwaway certificates; install OpenSSL and rerun.',
    );
  const tsaUrl = await startTsa();

  const samples = readdirSync('samples').filter((f) => /\.(exe|dll)$/.test(f));
  for (const sample of samples) copyFileSync(join('samples', sample), join(work, sample));
  const files = samples.map((s) => join(work, s));

  const quote = (a) => (/^[\w./:=@-]+$/.test(a) ? a : `"${a}"`);
  const cli = (...args) => {
    console.log(`\n$ node dist/cli.js ${args.map(quote).join(' ')}`);
    // Not spawnSync: the timestamp responder in this process must answer while the CLI runs.
    const child = spawn(process.execPath, ['dist/cli.js', ...args], { stdio: 'inherit' });
    return new Promise((resolve) => child.on('close', resolve));
  };
  let failed = await cli(
    'sign',
    '--certificate-file',
    join(work, 'signer.pem'),
    '--private-key-file',
    join(work, 'signer.key'),
    '--timestamp-rfc3161',
    tsaUrl ?? 'none',
    '--description',
    'vaultsign demo',
    ...files,
  );
  failed ||= await cli('verify', '--ca-file', join(work, 'root.pem'), ...files);

  const osslsigncode = spawnSync('osslsigncode', ['--version']).status === 0;
  if (osslsigncode) {
    console.log('\nIndependent check with osslsigncode verify:');
    for (const file of files) {
      const run = spawnSync('osslsigncode', ['verify', '-CAfile', join(work, 'root.pem'), '-in', file], {
        encoding: 'utf8',
      });
      const stamped = /Timestamp time/i.test(run.stdout) ? ' (timestamped)' : '';
      console.log(`  ${run.status === 0 ? 'Succeeded' : 'FAILED'}  ${file}${stamped}`);
      failed ||= run.status;
    }
  }
  if (tsaUrl)
    console.log(
      `\n(The commands above ran while the demo's timestamp responder listened on ${tsaUrl}; it stops now.)`,
    );
  process.exitCode = failed ? 1 : 0;
}

/** A throwaway timestamping certificate under the demo root, and openssl ts -reply behind a loopback HTTP server. */
async function startTsa() {
  try {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'tsa.key',
      '-out',
      'tsa.csr',
      '-subj',
      '/CN=vaultsign demo TSA',
    );
    writeFileSync(
      join(work, 'tsa.ext'),
      'keyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n',
    );
    openssl(
      'x509',
      '-req',
      '-in',
      'tsa.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'tsa.ext',
      '-out',
      'tsa.pem',
    );
    writeFileSync(join(work, 'tsa.serial'), '01\n');
    const f = (name) => join(work, name).replaceAll('\\', '/');
    writeFileSync(
      join(work, 'tsa.cnf'),
      `[ tsa ]\ndefault_tsa = demo\n[ demo ]\nserial = ${f('tsa.serial')}\ncrypto_device = builtin\n` +
        `signer_cert = ${f('tsa.pem')}\nsigner_key = ${f('tsa.key')}\nsigner_digest = sha256\n` +
        `default_policy = 1.2.3.4.1\ndigests = sha256, sha384, sha512\naccuracy = secs:1\nordering = no\n` +
        `tsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n`,
    );
    let sequence = 0;
    tsa = createServer(async (request, response) => {
      const chunks = [];
      for await (const chunk of request) chunks.push(chunk);
      const id = sequence++;
      try {
        writeFileSync(join(work, `${id}.tsq`), Buffer.concat(chunks));
        openssl('ts', '-reply', '-config', 'tsa.cnf', '-queryfile', `${id}.tsq`, '-out', `${id}.tsr`);
        response
          .writeHead(200, { 'Content-Type': 'application/timestamp-reply' })
          .end(readFileSync(join(work, `${id}.tsr`)));
      } catch {
        response.writeHead(500).end('openssl ts -reply failed');
      }
    });
    await new Promise((resolve, reject) => tsa.once('error', reject).listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${tsa.address().port}/`;
  } catch (error) {
    console.log(
      `\nNo timestamp in this run: the demo's timestamp responder did not start (${error.message.split('\n')[0]}).`,
    );
    return undefined;
  }
}
