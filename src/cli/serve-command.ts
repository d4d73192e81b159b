import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { UserError, messageOf } from '../errors.js';
import { AuditLog } from '../serve/audit-log.js';
import { readServeConfig, type ServeConfig } from '../serve/config.js';
import { SigningServer } from '../serve/server.js';
import { openServedKey, type ServedKey } from '../serve/signing-key.js';
import type { Console } from './terminal.js';

/** The TLS files, checked as TLS takes them: a broken pair names its files, before anything uses it. */
async function readTls(tls: ServeConfig['tls']): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (!tls) return undefined;
  const read = (path: string, what: string) =>
    readFile(path).catch((error: unknown) => {
      throw new UserError(`tls.${what} ${path}: cannot read it: ${messageOf(error)}`);
    });
  const pair = { cert: await read(tls.cert, 'cert'), key: await read(tls.key, 'key') };
  try {
    createSecureContext(pair);
  } catch (error) {
    throw new UserError(
      `tls.cert ${tls.cert} and tls.key ${tls.key}: not a certificate and its private key: ${messageOf(error)}; give the server's certificate (chain) and its unencrypted key in PEM`,
    );
  }
  return pair;
}

function describeAccess(config: ServeConfig): string {
  const { oidc, allow, tokens, perMinute } = config.access;
  const who = [
    oidc &&
      `${allow.length} allow-list entr${allow.length === 1 ? 'y' : 'ies'} for ${oidc.issuer} (audience ${oidc.audience})`,
    tokens.length && `${tokens.length} client token(s)`,
  ].filter(Boolean);
  return `${who.join(' and ')}; ${perMinute} signatures a minute per caller`;
}

/**
 * `vaultsign serve --config FILE`: opens the key once, serves until SIGTERM or SIGINT (then answers
 * the requests in flight, closes the key and returns 0), and reloads the access rules on SIGHUP.
 * Start-up problems throw a UserError (exit status 2) before anything listens.
 */
export async function runServe(file: string, io: Console, env: NodeJS.ProcessEnv): Promise<number> {
  let config = await readServeConfig(file, env);
  const tls = await readTls(config.tls);
  const audit = await AuditLog.open(config.auditLog);
  const notes: string[] = [];
  let key: ServedKey;
  try {
    key = await openServedKey(config.key, env, notes);
  } catch (error) {
    await audit.close();
    throw error;
  }
  notes.forEach((note) => io.err(`warning: ${note}`));
  const server = new SigningServer(config, tls, key, audit, io.err);
  let url: string;
  try {
    url = await server.listen(config.listen.host, config.listen.port);
  } catch (error) {
    await key.ready.close?.();
    await audit.close();
    throw error;
  }
  const subject = key.ready.certificate ? `: ${key.ready.certificate.subject.replace(/\n/g, ', ')}` : '';
  io.out(`vaultsign serve: listening on ${url} with ${key.ready.description}${subject}`);
  io.out(`vaultsign serve: ${describeAccess(config)}; audit log ${config.auditLog}`);

  const reload = async () => {
    try {
      const next = await readServeConfig(file, env);
      if (next.fixed !== config.fixed)
        io.err(
          'warning: reload: listen, tls, key and auditLog take effect only on a restart; the running ones are kept',
        );
      server.reload(next.access, await readTls(config.tls));
      config = { ...config, access: next.access };
      io.out(`vaultsign serve: reloaded ${file}: ${describeAccess(config)}`);
    } catch (error) {
      io.err(`error: reload of ${file} refused, the running config is kept: ${messageOf(error)}`);
    }
  };
  const onHangup = () => void reload();
  process.on('SIGHUP', onHangup);
  let stop: (signal: NodeJS.Signals) => void = () => undefined;
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    stop = resolve;
    process.on('SIGTERM', stop).on('SIGINT', stop);
  });
  // A second signal while draining ends the process at once, as signals do by default.
  process.off('SIGTERM', stop).off('SIGINT', stop);
  io.out(`vaultsign serve: ${signal}: no new requests; answering those in flight`);
  await server.drain();
  try {
    await key.ready.close?.();
  } finally {
    await audit.close();
  }
  process.off('SIGHUP', onHangup);
  io.out('vaultsign serve: stopped');
  return 0;
}
