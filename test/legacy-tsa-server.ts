import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import { body } from './tsa-server.js';

const run = promisify(execFile);

/** ok: a countersignature over the signature sent; other-data: one over other bytes. */
export type LegacyTsaMode = 'ok' | 'other-data';

export interface LegacyTsaServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The signature value inside an Authenticode TimeStampRequest (base64 DER):
 * SEQUENCE { 1.3.6.1.4.1.311.3.2.1, SEQUENCE { id-data, [0] { OCTET STRING signature } } }.
 */
function signatureInRequest(request: Buffer): Buffer {
  const parsed = asn1js.fromBER(Buffer.from(request.toString('latin1'), 'base64'));
  if (parsed.offset === -1) throw new Error('the request is not DER');
  const blob = (parsed.result as asn1js.Sequence).valueBlock.value[1] as asn1js.Sequence;
  const content = blob.valueBlock.value[1] as asn1js.Constructed;
  const octets = content.valueBlock.value[0] as asn1js.OctetString;
  return Buffer.from(octets.getValue());
}

/**
 * A legacy (pre-RFC 3161) Authenticode timestamp service on loopback: it answers with a PKCS#7
 * SignedData that `openssl cms -sign` makes over the signature value with SHA-1 and RSA, whose
 * SignerInfo the client embeds as a countersignature (as osslsigncode -t does).
 */
export async function startLegacyTsaServer(options: {
  readonly cert: string;
  readonly key: string;
  /** More certificates for the reply (the issuing CA). */
  readonly certfile: string;
  readonly mode?: LegacyTsaMode;
}): Promise<LegacyTsaServer> {
  const work = await mkdtemp(join(tmpdir(), 'vaultsign-legacy-tsa-'));
  let sequence = 0;
  const server = createServer(async (request, response) => {
    try {
      const signature = signatureInRequest(await body(request));
      const id = sequence++;
      const input = join(work, `${id}.bin`);
      const output = join(work, `${id}.p7`);
      await writeFile(input, options.mode === 'other-data' ? Buffer.from(`other data ${id}`) : signature);
      await run('openssl', [
        'cms',
        '-sign',
        '-binary',
        '-nodetach',
        '-nosmimecap',
        '-md',
        'sha1',
        '-signer',
        options.cert,
        '-inkey',
        options.key,
        '-certfile',
        options.certfile,
        '-in',
        input,
        '-outform',
        'DER',
        '-out',
        output,
      ]);
      response.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(await readFile(output));
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/legacy-tsa`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(work, { recursive: true, force: true });
    },
  };
}
