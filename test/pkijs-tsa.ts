/**
 * An RFC 3161 responder built on pkijs, keeping its key loaded: it signs a reply in a few ms, where
 * `openssl ts -reply` starts a process per request (~40 ms of CPU here). The benchmark runs it in a
 * process of its own (bench/pkijs-tsa-process.ts). Tests use it where openssl ts cannot serve: a TSA
 * certificate without the time-stamping usage, which openssl refuses to sign with. Its replies pass
 * `openssl ts -verify`.
 */
import { createHash, createPrivateKey, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { pemBlocks } from '../src/io/pem.js';
import { body } from './tsa-server.js';

export interface PkijsTsaOptions {
  /** PEM files: the TSA certificate, its key, and the intermediate that issued it. */
  readonly cert: string;
  readonly key: string;
  readonly intermediate: string;
  readonly latencyMs?: number;
}

export interface PkijsTsa {
  readonly url: string;
  close(): Promise<void>;
}

const OID = {
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
};

export async function startPkijsTsa(options: PkijsTsaOptions): Promise<PkijsTsa> {
  const certificate = async (file: string) =>
    pkijs.Certificate.fromBER(new Uint8Array(pemBlocks(await readFile(file, 'latin1'), 'CERTIFICATE')[0]));
  const tsa = await certificate(options.cert);
  const intermediate = await certificate(options.intermediate);
  const tsaDer = Buffer.from(tsa.toSchema().toBER());
  const key = await webcrypto.subtle.importKey(
    'pkcs8',
    createPrivateKey(await readFile(options.key)).export({ type: 'pkcs8', format: 'der' }),
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    false,
    ['sign'],
  );
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
                            new asn1js.OctetString({
                              valueHex: createHash('sha256').update(tsaDer).digest(),
                            }),
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
    await new Promise((r) => setTimeout(r, options.latencyMs ?? 0));
    try {
      const answer = await reply(new Uint8Array(await body(request)));
      response.writeHead(200, { 'Content-Type': 'application/timestamp-reply' }).end(answer);
    } catch (error) {
      response.writeHead(400).end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
