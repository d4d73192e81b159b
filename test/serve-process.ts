import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { shippedDist } from './shipped-dist.js';

/** What a test's `vaultsign serve` config says; it always listens on a free loopback port. */
export interface ServeConfigOptions {
  readonly tls: { readonly cert: string; readonly key: string };
  /** The key-store inputs. */
  readonly key: Readonly<Record<string, string>>;
  readonly auditLog: string;
  readonly oidc?: { readonly issuer: string; readonly audience: string };
  readonly allow?: readonly Readonly<Record<string, string>>[];
  /** Static client tokens by name; the config keeps their SHA-256, as the server wants. */
  readonly tokens?: Readonly<Record<string, string>>;
  readonly perMinute: number;
}

/** Writes a `vaultsign serve` config to `file`; returns `file`. */
export async function writeServeConfig(file: string, options: ServeConfigOptions): Promise<string> {
  const { tls, key, auditLog, oidc, allow, tokens = {}, perMinute } = options;
  await writeFile(
    file,
    JSON.stringify({
      listen: { host: '127.0.0.1', port: 0 },
      tls,
      key,
      auditLog,
      oidc,
      allow,
      tokens: Object.entries(tokens).map(([name, token]) => ({
        name,
        sha256: createHash('sha256').update(token).digest('hex'),
      })),
      rateLimit: { perMinute },
    }),
  );
  return file;
}

/** The records of an audit log, oldest first. */
export async function auditLines(path: string): Promise<Record<string, unknown>[]> {
  return (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** `vaultsign serve` running as a real process of the shipped CLI. */
export interface ServeProcess {
  readonly child: ChildProcess;
  /** The URL from its "listening on" line. */
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout holds a line matching `pattern`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit status (or the signal) once the process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `vaultsign serve --config FILE`; rejects with its output when it exits before listening. */
export async function startServe(config: string, env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const { cli } = await shippedDist();
  const child = spawn(process.execPath, [cli, 'serve', '--config', config], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    watchers.forEach((check) => check());
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForOutput = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`no output matching ${pattern} in ${timeoutMs} ms:\n${out}\n${err}`)),
        timeoutMs,
      );
      const done = (error?: Error) => {
        clearTimeout(timer);
        watchers.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => pattern.test(out) && done();
      watchers.add(check);
      void exited.then(({ code }) =>
        done(
          pattern.test(out) ? undefined : new Error(`exited (${code}) before ${pattern}:\n${out}\n${err}`),
        ),
      );
      check();
    });
  await waitForOutput(/listening on (\S+)/);
  const url = /listening on (\S+) with/.exec(out)![1];
  return { child, url, stdout: () => out, stderr: () => err, waitForOutput, exited };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
}

/** A client that trusts the test CA; keep-alive, so many requests share a few connections. */
export function serveClient(url: string, caFile: string) {
  let agent: Agent | undefined;
  const agentOf = async () => (agent ??= new Agent({ ca: await readFile(caFile), keepAlive: true }));
  return {
    async call(
      method: string,
      path: string,
      options: {
        token?: string;
        body?: unknown;
        during?: (req: ReturnType<typeof request>) => Promise<void>;
      } = {},
    ): Promise<Reply> {
      const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
      const headers: Record<string, string> = { Accept: 'application/json' };
      if (options.token) headers.Authorization = `Bearer ${options.token}`;
      if (body) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(body.length);
      }
      const agent = await agentOf();
      return new Promise<Reply>((resolve, reject) => {
        const req = request(new URL(path, url), { method, headers, agent }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: response.statusCode!,
              headers: response.headers,
              body: JSON.parse(text || '{}'),
            });
          });
          response.on('error', reject);
        });
        req.on('error', reject);
        if (options.during) {
          // Sends the headers and half the body, lets the caller act, then the rest.
          req.flushHeaders();
          const half = body ? Math.floor(body.length / 2) : 0;
          if (body) req.write(body.subarray(0, half));
          void options.during(req).then(() => req.end(body?.subarray(half)), reject);
        } else req.end(body);
      });
    },
    close: () => agent?.destroy(),
  };
}
