import type { PKCS11 } from 'pkcs11js';
import { messageOf, UserError } from '../../errors.js';
import type { KeyType } from '../signer.js';
import type { Pkcs11Binding } from './binding.js';

/** Which token and key to use, as the inputs give them. */
export interface TokenSettings {
  readonly module: string;
  readonly slot?: bigint;
  readonly tokenLabel?: string;
  readonly keyId?: Buffer;
  readonly keyLabel?: string;
  readonly pin?: string;
}

/** One logged-in session on a token, holding one private key; its operations run one at a time. */
export interface TokenSession {
  readonly keyType: KeyType;
  /** The certificate stored on the token with the key's CKA_ID, when there is one. */
  readonly certificate?: Buffer;
  /** `key "L" (id 01) on the token "T" (slot N)`, for messages. */
  readonly description: string;
  /** Signs `data` with `mechanism` (CKM_RSA_PKCS or CKM_ECDSA): the token's raw answer. */
  sign(mechanism: number, data: Buffer, signal?: AbortSignal): Promise<Buffer>;
  /** Logs out, closes the session and finalizes the library (once; after every queued operation). */
  close(): Promise<void>;
}

/** The CKR_ name of a PKCS#11 error (pkcs11js puts it in the message), else the first line of the message. */
function reason(error: unknown): string {
  return /CKR_\w+/.exec(messageOf(error))?.[0] ?? messageOf(error).split('\n')[0];
}

/** A CK_ULONG attribute or handle, as pkcs11js hands it over: native-endian bytes (4 on Windows, 8 elsewhere). */
function ulong(bytes: Buffer): bigint {
  return bytes.length === 8 ? bytes.readBigUInt64LE() : BigInt(bytes.readUInt32LE());
}

const trimmed = (label: string) => label.replace(/[\s\0]+$/, '');

/** A wrong PIN is never tried twice: tokens lock the PIN after a few refusals (often 3 to 10). */
function loginFailure(error: unknown, token: string): UserError {
  const code = reason(error);
  if (code === 'CKR_PIN_INCORRECT') {
    return new UserError(
      `${token} refused the PIN (pkcs11-pin; CKR_PIN_INCORRECT); it was tried once and not again: tokens lock their PIN after a few wrong tries, so check it before the next run`,
    );
  }
  if (code === 'CKR_PIN_LOCKED') {
    return new UserError(
      `${token}: its PIN is locked (CKR_PIN_LOCKED) after too many wrong tries; unlock it with the token's administration tool (SO PIN or PUK)`,
    );
  }
  return new UserError(`${token} refused the login (${code})`);
}

function openLibrary(binding: Pkcs11Binding, module: string): PKCS11 {
  const library = new binding.PKCS11();
  try {
    library.load(module);
  } catch (error) {
    throw new UserError(
      `pkcs11-module ${module}: cannot be loaded as a PKCS#11 library (${messageOf(error).split('\n')[0]}); give the vendor's PKCS#11 library for ${process.platform}-${process.arch}`,
    );
  }
  try {
    library.C_Initialize();
  } catch (error) {
    library.close();
    throw new UserError(`pkcs11-module ${module}: the library did not initialize (${reason(error)})`);
  }
  return library;
}

/** The slot of the one token the settings name, with its label. */
function findToken(
  binding: Pkcs11Binding,
  library: PKCS11,
  settings: TokenSettings,
): { slot: Buffer; label: string; id: bigint } {
  // A token not initialized yet (SoftHSM2 always offers one) holds no key: it is never a choice.
  const tokens = library
    .C_GetSlotList(true)
    .map((slot) => ({ slot, id: ulong(slot), info: library.C_GetTokenInfo(slot) }))
    .filter(({ info }) => (info.flags & binding.CKF_TOKEN_INITIALIZED) !== 0)
    .map(({ slot, id, info }) => ({ slot, id, label: trimmed(info.label) }));
  const listed = () => tokens.map((t) => `"${t.label}" (slot ${t.id})`).join(', ');
  if (tokens.length === 0)
    throw new UserError(`pkcs11-module ${settings.module}: no token is present; is it plugged in?`);
  const matching = tokens.filter(
    (t) =>
      (settings.slot === undefined || t.id === settings.slot) &&
      (settings.tokenLabel === undefined || t.label === settings.tokenLabel),
  );
  if (matching.length === 1) return matching[0];
  if (matching.length > 1) {
    throw new UserError(
      `pkcs11-module ${settings.module}: several tokens match: ${matching.map((t) => `"${t.label}" (slot ${t.id})`).join(', ')}; choose one with pkcs11-token-label or pkcs11-slot`,
    );
  }
  const asked = [
    settings.slot !== undefined && `pkcs11-slot ${settings.slot}`,
    settings.tokenLabel !== undefined && `pkcs11-token-label "${settings.tokenLabel}"`,
  ].filter(Boolean);
  throw new UserError(
    `${asked.join(' with ')}: no such token in ${settings.module}; the tokens present are ${listed()}`,
  );
}

function findObjects(library: PKCS11, session: Buffer, template: Pkcs11Template, max = 100): Buffer[] {
  library.C_FindObjectsInit(session, template);
  try {
    return library.C_FindObjects(session, max);
  } finally {
    library.C_FindObjectsFinal(session);
  }
}

type Pkcs11Template = Parameters<PKCS11['C_FindObjectsInit']>[1];

function attribute(library: PKCS11, session: Buffer, object: Buffer, type: number): Buffer | undefined {
  try {
    const [{ value }] = library.C_GetAttributeValue(session, object, [{ type }]);
    return Buffer.isBuffer(value) ? value : undefined;
  } catch {
    // CKR_ATTRIBUTE_TYPE_INVALID and the like: the object has no such attribute.
    return undefined;
  }
}

/**
 * Opens the token the settings name, logs in once and finds the key (and its certificate); every
 * refusal is a UserError naming what to fix. Nothing is left open when it throws.
 */
export function openTokenSession(binding: Pkcs11Binding, settings: TokenSettings): TokenSession {
  const library = openLibrary(binding, settings.module);
  let session: Buffer | undefined;
  const release = () => {
    for (const step of [
      () => session && library.C_Logout(session),
      () => session && library.C_CloseSession(session),
      () => library.C_Finalize(),
      () => library.close(),
    ]) {
      try {
        step();
      } catch {
        // Releasing what is already gone (a token pulled out) is not an error of the run.
      }
    }
  };
  try {
    const token = findToken(binding, library, settings);
    const name = `the token "${token.label}" (slot ${token.id})`;
    session = library.C_OpenSession(token.slot, binding.CKF_SERIAL_SESSION);
    const pin = settings.pin;
    const pinPad =
      (library.C_GetTokenInfo(token.slot).flags & binding.CKF_PROTECTED_AUTHENTICATION_PATH) !== 0;
    if (!pin && !pinPad) {
      throw new UserError(
        `pkcs11-pin is missing: ${name} needs its user PIN to sign (CLI: or the VAULTSIGN_PKCS11_PIN environment variable)`,
      );
    }
    try {
      library.C_Login(session, binding.CKU_USER, pin || undefined);
    } catch (error) {
      if (reason(error) !== 'CKR_USER_ALREADY_LOGGED_IN') throw loginFailure(error, name);
    }
    const key = findKey(binding, library, session, settings, name);
    const description = `key ${key.name} on ${name}`;
    const keyType = keyTypeOf(binding, key.type, description);
    const certificate = key.id?.length
      ? findObjects(library, session, [
          { type: binding.CKA_CLASS, value: binding.CKO_CERTIFICATE },
          { type: binding.CKA_ID, value: key.id },
        ]).map((object) => attribute(library, session!, object, binding.CKA_VALUE))[0]
      : undefined;
    return tokenSession(binding, library, session, {
      keyType,
      certificate,
      description,
      handle: key.handle,
      alwaysAuthenticate: key.alwaysAuthenticate,
      pin,
      release,
    });
  } catch (error) {
    release();
    if (error instanceof UserError) throw error;
    throw new UserError(`pkcs11-module ${settings.module}: ${reason(error)} while opening the token`);
  }
}

function findKey(
  binding: Pkcs11Binding,
  library: PKCS11,
  session: Buffer,
  settings: TokenSettings,
  token: string,
) {
  const template: Pkcs11Template = [{ type: binding.CKA_CLASS, value: binding.CKO_PRIVATE_KEY }];
  if (settings.keyId) template.push({ type: binding.CKA_ID, value: settings.keyId });
  if (settings.keyLabel !== undefined) template.push({ type: binding.CKA_LABEL, value: settings.keyLabel });
  const describe = (object: Buffer) => {
    const label = attribute(library, session, object, binding.CKA_LABEL)?.toString('utf8');
    const id = attribute(library, session, object, binding.CKA_ID);
    return [label !== undefined && `"${label}"`, id?.length && `(id ${id.toString('hex')})`]
      .filter(Boolean)
      .join(' ');
  };
  const found = findObjects(library, session, template);
  const asked = [
    settings.keyId && `pkcs11-key-id ${settings.keyId.toString('hex')}`,
    settings.keyLabel !== undefined && `pkcs11-key-label "${settings.keyLabel}"`,
  ]
    .filter(Boolean)
    .join(' with ');
  if (found.length !== 1) {
    const all = findObjects(library, session, [{ type: binding.CKA_CLASS, value: binding.CKO_PRIVATE_KEY }]);
    const keys = all.length
      ? `its private keys are ${all.map(describe).join(', ')}`
      : 'it holds no private key';
    throw new UserError(
      found.length === 0
        ? `${asked}: no such private key on ${token}; ${keys}`
        : `${asked}: ${found.length} private keys on ${token} match; ${keys}; give pkcs11-key-id`,
    );
  }
  const [handle] = found;
  const always = attribute(library, session, handle, binding.CKA_ALWAYS_AUTHENTICATE);
  return {
    handle,
    name: describe(handle),
    id: attribute(library, session, handle, binding.CKA_ID),
    type: attribute(library, session, handle, binding.CKA_KEY_TYPE),
    alwaysAuthenticate: always?.[0] === 1,
  };
}

function keyTypeOf(binding: Pkcs11Binding, type: Buffer | undefined, key: string): KeyType {
  const value = type && ulong(type);
  if (value === BigInt(binding.CKK_RSA)) return 'RSA';
  if (value === BigInt(binding.CKK_EC)) return 'EC';
  throw new UserError(
    `${key} is not an RSA or EC key (CKA_KEY_TYPE ${value ?? 'unreadable'}); vaultsign signs with RSA or EC keys`,
  );
}

interface SessionParts {
  readonly keyType: KeyType;
  readonly certificate?: Buffer;
  readonly description: string;
  readonly handle: Buffer;
  readonly alwaysAuthenticate: boolean;
  readonly pin?: string;
  readonly release: () => void;
}

/**
 * The token is single-threaded: operations queue, one after another, while the files around them are
 * hashed in parallel. After the first refusal the token is asked nothing more: a refused PIN tried
 * again could lock it, and a token that failed (pulled out, session lost) fails every later file too.
 */
function tokenSession(
  binding: Pkcs11Binding,
  library: PKCS11,
  session: Buffer,
  parts: SessionParts,
): TokenSession {
  const { handle, alwaysAuthenticate, pin, description } = parts;
  let tail: Promise<unknown> = Promise.resolve();
  let stopped: UserError | undefined;
  let closed = false;
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    keyType: parts.keyType,
    certificate: parts.certificate,
    description,
    sign: (mechanism, data, signal) =>
      serial(async () => {
        signal?.throwIfAborted();
        if (stopped) throw stopped;
        if (closed) throw new UserError(`${description}: the session is closed`);
        try {
          library.C_SignInit(session, { mechanism }, handle);
          // Keys with CKA_ALWAYS_AUTHENTICATE (EV tokens, PIV slot 9c) want the PIN again for each signature.
          if (alwaysAuthenticate) {
            try {
              library.C_Login(session, binding.CKU_CONTEXT_SPECIFIC, pin || undefined);
            } catch (error) {
              throw loginFailure(error, description);
            }
          }
          return await library.C_SignAsync(session, data, Buffer.alloc(1024));
        } catch (error) {
          stopped =
            error instanceof UserError
              ? error
              : new UserError(
                  `${description} failed to sign (${reason(error)}); it was asked no further signature`,
                );
          throw stopped;
        }
      }),
    close: () =>
      serial(async () => {
        if (closed) return;
        closed = true;
        parts.release();
      }),
  };
}
