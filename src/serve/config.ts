import { readFile } from 'node:fs/promises';
import { INPUTS, type InputName, type Inputs } from '../config/inputs.js';
import { UserError, messageOf } from '../errors.js';
import { nearest } from '../cli/did-you-mean.js';
import { isLoopback } from '../io/loopback.js';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** Claims that tie a token to a repository: an allow-list entry without one would admit any repository on GitHub. */
export const REPOSITORY_CLAIMS = [
  'repository',
  'repository_id',
  'repository_owner',
  'repository_owner_id',
  'job_workflow_ref',
  'sub',
] as const;

/** A static client token: only its SHA-256 is stored. */
export interface ClientToken {
  readonly name: string;
  readonly sha256: Buffer;
}

/** Who may sign, and how often: what SIGHUP reloads. */
export interface Access {
  readonly oidc?: { readonly issuer: string; readonly audience: string };
  /** Each entry: claims a token must all carry, with these values. */
  readonly allow: readonly Readonly<Record<string, string>>[];
  readonly tokens: readonly ClientToken[];
  /** Signatures per caller per minute. */
  readonly perMinute: number;
}

export interface ServeConfig {
  readonly file: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** Absent only on a loopback host (plain HTTP). */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** The key store's inputs, named as the Action's inputs. */
  readonly key: Inputs;
  readonly auditLog: string;
  readonly access: Access;
  /** What needs a restart to change (listen, tls files, key, audit log), for reloads to compare. */
  readonly fixed: string;
}

/** Inputs that describe files and signatures, not the key: the client's business, not the server's. */
const NOT_KEY_INPUTS: readonly InputName[] = [
  'files',
  'files-folder',
  'files-folder-filter',
  'files-folder-recurse',
  'files-folder-depth',
  'files-catalog',
  'exclude',
  'file-digest',
  'allow-sha1',
  'timestamp-rfc3161',
  'timestamp-digest',
  'description',
  'description-url',
  'append-signature',
  'skip-signed',
  'generate-page-hashes',
  'concurrency',
  'timeout',
  'dry-run',
];
const KEY_INPUTS = Object.keys(INPUTS).filter((name) => !NOT_KEY_INPUTS.includes(name as InputName));

type Json = Record<string, unknown>;

/** Reads a config file's values, each error naming the file and the field. */
class Fields {
  constructor(readonly file: string) {}

  fail(where: string, problem: string): never {
    throw new UserError(`${this.file}: ${where}: ${problem}`);
  }

  object(value: unknown, where: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(where, 'expected an object { … }');
    return value as Json;
  }

  string(value: unknown, where: string): string {
    if (typeof value !== 'string' || !value) this.fail(where, 'expected a non-empty string');
    return value;
  }

  array(value: unknown, where: string): unknown[] {
    if (!Array.isArray(value)) this.fail(where, 'expected a list [ … ]');
    return value;
  }

  /** Refuses keys the object should not have, naming the nearest known one. */
  only(object: Json, known: readonly string[], where: string): void {
    for (const key of Object.keys(object)) {
      if (known.includes(key)) continue;
      const guess = nearest(key, [...known]);
      this.fail(
        where ? `${where}.${key}` : key,
        `unknown field${guess ? `; did you mean "${guess}"?` : ` (known: ${known.join(', ')})`}`,
      );
    }
  }
}

function listenOf(f: Fields, value: unknown): ServeConfig['listen'] {
  const listen = f.object(value ?? {}, 'listen');
  f.only(listen, ['host', 'port'], 'listen');
  const host = listen.host === undefined ? '127.0.0.1' : f.string(listen.host, 'listen.host');
  const port = listen.port ?? 8443;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
    f.fail('listen.port', 'expected a port number 0–65535 (0: any free port, printed at start)');
  return { host, port };
}

function tlsOf(f: Fields, value: unknown, host: string): ServeConfig['tls'] {
  if (value === undefined) {
    if (isLoopback(host)) return undefined;
    f.fail(
      'tls',
      `missing: on ${host} the server answers only HTTPS; give "tls": {"cert": PEM file, "key": PEM file}, or listen on 127.0.0.1 for plain HTTP behind a local proxy`,
    );
  }
  const tls = f.object(value, 'tls');
  f.only(tls, ['cert', 'key'], 'tls');
  return { cert: f.string(tls.cert, 'tls.cert'), key: f.string(tls.key, 'tls.key') };
}

function keyOf(f: Fields, value: unknown, env: NodeJS.ProcessEnv): Inputs {
  const key = f.object(value, 'key');
  f.only(key, KEY_INPUTS, 'key');
  const inputs: Record<string, string> = {};
  for (const [name, given] of Object.entries(key)) inputs[name] = f.string(given, `key.${name}`);
  // Secrets from the environment (e.g. systemd's EnvironmentFile), as the CLI takes them: not in the config file.
  inputs['pkcs11-pin'] ??= env.VAULTSIGN_PKCS11_PIN ?? '';
  inputs['pfx-password'] ??= env.VAULTSIGN_PFX_PASSWORD ?? '';
  return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v)) as Inputs;
}

function oidcOf(f: Fields, value: unknown): Access['oidc'] {
  if (value === undefined) return undefined;
  const oidc = f.object(value, 'oidc');
  f.only(oidc, ['issuer', 'audience'], 'oidc');
  const issuer = oidc.issuer === undefined ? GITHUB_ISSUER : f.string(oidc.issuer, 'oidc.issuer');
  if (!issuer.startsWith('https://')) f.fail('oidc.issuer', `"${issuer}" is not an https:// URL`);
  return { issuer: issuer.replace(/\/+$/, ''), audience: f.string(oidc.audience, 'oidc.audience') };
}

function allowOf(f: Fields, value: unknown): Access['allow'] {
  return f.array(value ?? [], 'allow').map((item, i) => {
    const where = `allow[${i}]`;
    const entry = f.object(item, where);
    const claims: Record<string, string> = {};
    for (const [claim, wanted] of Object.entries(entry))
      claims[claim] = f.string(wanted, `${where}.${claim}`);
    if (!REPOSITORY_CLAIMS.some((claim) => claims[claim]))
      f.fail(
        where,
        `names no repository: any repository on GitHub can ask for a token with your audience; add one of ${REPOSITORY_CLAIMS.join(', ')}`,
      );
    return claims;
  });
}

function tokensOf(f: Fields, value: unknown): ClientToken[] {
  const names = new Set<string>();
  return f.array(value ?? [], 'tokens').map((item, i) => {
    const where = `tokens[${i}]`;
    const entry = f.object(item, where);
    f.only(entry, ['name', 'sha256'], where);
    const name = f.string(entry.name, `${where}.name`);
    if (names.has(name)) f.fail(`${where}.name`, `"${name}" is used twice: each token needs its own name`);
    names.add(name);
    const sha256 = f.string(entry.sha256, `${where}.sha256`).toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(sha256))
      f.fail(
        `${where}.sha256`,
        'expected the token\'s SHA-256 in hex (64 digits), e.g. from: printf %s "$TOKEN" | sha256sum',
      );
    return { name, sha256: Buffer.from(sha256, 'hex') };
  });
}

function perMinuteOf(f: Fields, value: unknown): number {
  const limit = f.object(value ?? {}, 'rateLimit');
  f.only(limit, ['perMinute'], 'rateLimit');
  const perMinute = limit.perMinute ?? 600;
  if (typeof perMinute !== 'number' || !Number.isInteger(perMinute) || perMinute < 1)
    f.fail('rateLimit.perMinute', 'expected a whole number of signatures per caller per minute, 1 or more');
  return perMinute;
}

const FIELDS = ['listen', 'tls', 'key', 'auditLog', 'oidc', 'allow', 'tokens', 'rateLimit'];

/** Reads and checks the server's config file; every error names the file and the field. */
export async function readServeConfig(file: string, env: NodeJS.ProcessEnv): Promise<ServeConfig> {
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw new UserError(`--config ${file}: cannot read it: ${messageOf(error)}`);
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file}: not valid JSON: ${messageOf(error)}`);
  }
  const f = new Fields(file);
  const root = f.object(parsed, 'the file');
  f.only(root, FIELDS, '');
  const listen = listenOf(f, root.listen);
  const tls = tlsOf(f, root.tls, listen.host);
  const key = keyOf(f, root.key, env);
  const auditLog = f.string(root.auditLog, 'auditLog');
  const access: Access = {
    oidc: oidcOf(f, root.oidc),
    allow: allowOf(f, root.allow),
    tokens: tokensOf(f, root.tokens),
    perMinute: perMinuteOf(f, root.rateLimit),
  };
  if (!access.oidc && access.allow.length)
    f.fail('allow', 'an allow-list needs "oidc": {"audience": …} (the tokens it applies to)');
  if (access.oidc && !access.allow.length)
    f.fail(
      'allow',
      'missing: with "oidc", list who may sign, e.g. [{"repository": "acme/app", "ref": "refs/heads/main"}]',
    );
  if (!access.oidc && !access.tokens.length)
    f.fail('the file', 'nobody could sign: give "oidc" with "allow", or "tokens", or both');
  const fixed = JSON.stringify({ listen, tls, key: root.key, auditLog });
  return { file, listen, tls, key, auditLog, access, fixed };
}
