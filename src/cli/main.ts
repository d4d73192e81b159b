import { parseArgs } from 'node:util';
import type { Inputs } from '../config/inputs.js';
import { buildSignConfig } from '../config/sign-config.js';
import { UserError, messageOf } from '../errors.js';
import { logLines } from '../io/log-escape.js';
import { helpText, parseOptions, SIGN_SPECS, VERIFY_OPTIONS } from './options.js';
import { runSign } from './sign-command.js';
import { runVerify } from './verify-command.js';

export interface Console {
  out(line: string): void;
  err(line: string): void;
}

const USAGE = 2;

function parse(args: string[], options: ReturnType<typeof parseOptions>) {
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
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    terminal.out(helpText());
    return command ? 0 : USAGE;
  }
  // File names and messages from outside: in a GitHub Actions step this output is the job's log, where a
  // line could otherwise act as a workflow command; in a terminal, control characters could drive it.
  const io: Console = {
    out: (text) => terminal.out(logLines(text)),
    err: (text) => terminal.err(logLines(text)),
  };
  try {
    if (command === 'sign') {
      const { values, positionals } = parse(rest, parseOptions(SIGN_SPECS));
      const inputs = values as Inputs;
      // Secrets from the environment keep them off the command line (and out of `ps`).
      inputs['pfx-password'] ??= env.VAULTSIGN_PFX_PASSWORD;
      inputs['pfx-base64'] ??= env.VAULTSIGN_PFX_BASE64;
      inputs.certificate ??= env.VAULTSIGN_CERTIFICATE;
      inputs['private-key'] ??= env.VAULTSIGN_PRIVATE_KEY;
      return await runSign(buildSignConfig(inputs, positionals), io, env);
    }
    if (command === 'verify') {
      const { values, positionals } = parse(rest, parseOptions(VERIFY_OPTIONS));
      if (positionals.length === 0) throw new UserError('verify: no files given');
      return await runVerify(values['ca-file'] as string | undefined, positionals, io);
    }
    throw new UserError(`unknown command "${command}" (use sign or verify; see vaultsign --help)`);
  } catch (error) {
    io.err(
      error instanceof UserError
        ? `error: ${error.message}`
        : `error: unexpected error: ${messageOf(error)}; please report it`,
    );
    return error instanceof UserError ? USAGE : 1;
  }
}
