import { readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
export function json(response, status, value, headers = {}) {
    response.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(value));
}
/** An HTTPS server on loopback with the test PKI's localhost / *.vault.azure.net certificate. */
export async function startHttps(pki, handler) {
    const sockets = new Set();
    const server = createServer({ cert: await readFile(pki.https.cert), key: await readFile(pki.https.key) }, async (request, response) => {
        const chunks = [];
        for await (const chunk of request)
            chunks.push(chunk);
        try {
            await handler(request, Buffer.concat(chunks), response);
        }
        catch (error) {
            if (!response.headersSent)
                json(response, 500, { error: { code: 'EmulatorError', message: String(error) } });
        }
    });
    server.on('secureConnection', (socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
        port: server.address().port,
        server,
        async close() {
            for (const socket of sockets)
                socket.destroy();
            await new Promise((resolve) => server.close(() => resolve()));
        },
    };
}
