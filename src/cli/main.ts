import { parseArgs } from 'node:util';
import type { Inputs } from '../config/inputs.js';
import { buildSignConfig } from '../config/sign-config.js';
import { UserError, messageOf } from '../errors.js';
import { logLines } from '../io/log-escape.js';
import { rewriteAzureSignToolFlags } from './azure-sign-tool-flags.js';
import { nearest } from './did-you-mean.js';
import {
  helpText,
  parseOptions,
  serveHelp,
  SERVE_OPTIONS,
  signHelp,
  SIGN_OPTIONS,
  verifyHelp,
  VERIFY_OPTIONS,
} from './options.js';
import { runSign } from './sign-command.js';
import { VERSION } from './version.js';
import type { Console, Output } from './terminal.js';
import { runVerify } from './verify-command.js';

const USAGE = 2;

interface OutputFlags {
  json?: boolean;
  quiet?: boolean;
}

const outputOf = ({ json, quiet }: OutputFlags): Output => (json ? 'json' : quiet ? 'quiet' : 'lines');

/** An option the command does not have, named with the nearest one it does when that is close. */
function rejectUnknown(args: string[], options: ReturnType<typeof parseOptions>): void {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option' || Object.hasOwn(options, token.name)) continue;
    // parseArgs splits "-kvm" into -k -v -m: name the word the user wrote (an AzureSignTool flag
    // without a vaultsign equivalent, or a long option with one dash).
    const word = args[token.index]!;
    const grouped = /^-[^-]{2,}/.test(word);
    const [written, name] = grouped
      ? [word.split('=')[0]!, word.slice(1).split('=')[0]!]
      : [token.rawName, token.name];
    const guess = nearest(name, Object.keys(options));
    const hint = guess ? `; did you mean --${guess}?` : ' (see vaultsign --help)';
    throw new UserError(`unknown option ${written}${hint}`);
  }
}

/** `--help` or `-h` among a command's options, before any `--`. */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

function parse(args: string[], options: ReturnType<typeof parseOptions>) {
  rejectUnknown(args, options);
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`${messageOf(error)} (see vaultsign --help)`);
  }
}

/** Runs one CLI invocation; returns the exit status. */
export async function main(
  argv: string[],
  terminal: Console,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  // `vaultsign help sign` is `vaultsign sign --help`.
  const [command, ...rest] = argv[0] === 'help' && argv[1] ? [argv[1], '--help'] : argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    terminal.out(helpText());
    return command ? 0 : USAGE;
  }
  if (command === '--version' || command === '-V') {
    terminal.out(VERSION);
    return 0;
  }
  const help = new Map([
    ['sign', signHelp],
    ['verify', verifyHelp],
    ['serve', serveHelp],
  ]).get(command);
  if (help && asksForHelp(rest)) {
    terminal.out(help());
    return 0;
  }
  // File names and messages from outside: in a GitHub Actions step this output is the job's log, where a
  // line could otherwise act as a workflow command; in a terminal, control characters could drive it.
  const io: Console = {
    out: (text) => terminal.out(logLines(text)),
    err: (text) => terminal.err(logLines(text)),
  };
  try {
    if (command === 'sign') {
      const { args, notices } = rewriteAzureSignToolFlags(rest);
      notices.forEach((notice) => io.err(notice));
      const { values, positionals } = parse(args, parseOptions(SIGN_OPTIONS));
      const { json, quiet, ...inputs } = values as Inputs & OutputFlags;
      // Secrets from the environment keep them off the command line (and out of `ps`).
      inputs['pfx-password'] ??= env.VAULTSIGN_PFX_PASSWORD;
      inputs['pfx-base64'] ??= env.VAULTSIGN_PFX_BASE64;
      inputs.certificate ??= env.VAULTSIGN_CERTIFICATE;
      inputs['private-key'] ??= env.VAULTSIGN_PRIVATE_KEY;
      inputs['pkcs11-pin'] ??= env.VAULTSIGN_PKCS11_PIN;
      inputs['signing-server-token'] ??= env.VAULTSIGN_SIGNING_SERVER_TOKEN;
      const output = outputOf({ json, quiet });
      return await runSign(buildSignConfig(inputs, positionals), { io, output, stdout: terminal.out }, env);
    }
    if (command === 'verify') {
      const { values, positionals } = parse(rest, parseOptions(VERIFY_OPTIONS));
      if (positionals.length === 0) throw new UserError('verify: no files given');
      return await runVerify(
        { caFile: values['ca-file'] as string | undefined, caFileOnly: values['ca-file-only'] === true },
        positionals,
        { io, output: outputOf(values as OutputFlags), stdout: terminal.out },
      );
    }
    if (command === 'serve') {
      const { values, positionals } = parse(rest, parseOptions(SERVE_OPTIONS));
      if (positionals.length) throw new UserError(`serve: unexpected argument "${positionals[0]}"`);
      if (typeof values.config !== 'string') throw new UserError('serve: --config FILE is missing');
      // The server (and jose) loads only for this command: sign and verify start without it.
      const { runServe } = await import('./serve-command.js');
      return await runServe(values.config, io, env);
    }
    throw new UserError(`unknown command "${command}" (use sign, verify or serve; see vaultsign --help)`);
  } catch (error) {
    io.err(
      error instanceof UserError
        ? `error: ${error.message}`
        : `error: unexpected error: ${messageOf(error)}; please report it`,
    );
    return error instanceof UserError ? USAGE : 1;
  }
}
