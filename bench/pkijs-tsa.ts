/**
 * The benchmark's RFC 3161 responder, run as its own process: `node pkijs-tsa.js <tsa.pem> <tsa.key>
 * <intermediate.pem> <latencyMs>` prints its URL. The tests use the real `openssl ts -reply`, which
 * starts a process per request (~40 ms of CPU here): at 2,000 timestamps that would measure openssl
 * start-ups, not vaultsign. This one keeps the key loaded and signs in a few ms.
 */
import { createHash, createPrivateKey, webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pemBlocks } from '../src/io/pem.js';

const [certFile, keyFile, intermediateFile, latency] = process.argv.slice(2);
const certificate = (file: string) =>
  pkijs.Certificate.fromBER(new Uint8Array(pemBlocks(readFileSync(file, 'latin1'), 'CERTIFICATE')[0]));
const tsa = certificate(certFile);
const intermediate = certificate(intermediateFile);
const tsaDer = Buffer.from(tsa.toSchema().toBER());
const key = await webcrypto.subtle.importKey(
  'pkcs8',
  createPrivateKey(readFileSync(keyFile)).export({ type: 'pkcs8', format: 'der' }),
  { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  false,
  ['sign'],
);

const OID = {
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
};
let serial = 1;

async function reply(query: Uint8Array<ArrayBuffer>): Promise<Buffer> {
  const request = pkijs.TimeStampReq.fromBER(query);
  const info = new pkijs.TSTInfo({
    version: 1,
    policy: '1.2.3.4.1',
    messageImprint: request.messageImprint,
    serialNumber: new asn1js.Integer({ value: serial++ }),
    genTime: new Date(),
    accuracy: new pkijs.Accuracy({ seconds: 1 }),
    ordering: true,
    nonce: request.nonce,
  });
  const content = Buffer.from(info.toSchema().toBER());
  const attribute = (type: string, value: asn1js.AsnType) => new pkijs.Attribute({ type, values: [value] });
  const signedData = new pkijs.SignedData({
    version: 3,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({
      eContentType: OID.tstInfo,
      eContent: new asn1js.OctetString({ valueHex: content }),
    }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: tsa.issuer, serialNumber: tsa.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            attribute(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.tstInfo })),
            attribute(
              OID.messageDigest,
              new asn1js.OctetString({ valueHex: createHash('sha256').update(content).digest() }),
            ),
            // ESS signing-certificate-v2 (RFC 5816): SHA-256 of the TSA certificate.
            attribute(
              OID.signingCertificateV2,
              new asn1js.Sequence({
                value: [
                  new asn1js.Sequence({
                    value: [
                      new asn1js.Sequence({
                        value: [
                          new asn1js.OctetString({ valueHex: createHash('sha256').update(tsaDer).digest() }),
                        ],
                      }),
                    ],
                  }),
                ],
              }),
            ),
          ],
        }),
      }),
    ],
    certificates: request.certReq ? [tsa, intermediate] : undefined,
  });
  await signedData.sign(key, 0, 'SHA-256');
  const response = new pkijs.TimeStampResp({
    status: new pkijs.PKIStatusInfo({ status: 0 }),
    timeStampToken: new pkijs.ContentInfo({
      contentType: pkijs.ContentInfo.SIGNED_DATA,
      content: signedData.toSchema(true),
    }),
  });
  return Buffer.from(response.toSchema().toBER());
}

const server = createServer(async (request, response) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  await new Promise((r) => setTimeout(r, Number(latency)));
  try {
    const answer = await reply(new Uint8Array(Buffer.concat(chunks)));
    response.writeHead(200, { 'Content-Type': 'application/timestamp-reply' }).end(answer);
  } catch (error) {
    response.writeHead(400).end(String(error));
  }
});
server.listen(0, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`);
});
