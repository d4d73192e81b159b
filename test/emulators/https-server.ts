import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { TestPki } from '../pki.js';

export type Handler = (
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
) => Promise<void> | void;

export interface RunningServer {
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

export function json(
  response: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(value));
}

/** An HTTPS server on loopback with the test PKI's localhost / *.vault.azure.net certificate; `port` 0 picks a free one. */
export async function startHttps(pki: TestPki, handler: Handler, port = 0): Promise<RunningServer> {
  const sockets = new Set<Socket>();
  const server = createServer(
    { cert: await readFile(pki.https.cert), key: await readFile(pki.https.key) },
    async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      try {
        await handler(request, Buffer.concat(chunks), response);
      } catch (error) {
        if (!response.headersSent)
          json(response, 500, { error: { code: 'EmulatorError', message: String(error) } });
      }
    },
  );
  server.on('secureConnection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    server,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
