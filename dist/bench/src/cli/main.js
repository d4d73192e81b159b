import { parseArgs } from 'node:util';
import { buildSignConfig } from '../config/sign-config.js';
import { UserError, messageOf } from '../errors.js';
import { helpText, parseOptions, SIGN_SPECS, VERIFY_OPTIONS } from './options.js';
import { runSign } from './sign-command.js';
import { runVerify } from './verify-command.js';
const USAGE = 2;
function parse(args, options) {
    try {
        return parseArgs({ args, options, allowPositionals: true, strict: true });
    }
    catch (error) {
        throw new UserError(`${messageOf(error)} (see vaultsign --help)`);
    }
}
/** Runs one CLI invocation; returns the exit status. */
export async function main(argv, io, env = process.env) {
    const [command, ...rest] = argv;
    if (!command || command === '--help' || command === '-h' || command === 'help') {
        io.out(helpText());
        return command ? 0 : USAGE;
    }
    try {
        if (command === 'sign') {
            const { values, positionals } = parse(rest, parseOptions(SIGN_SPECS));
            const inputs = values;
            inputs['pfx-password'] ??= env.VAULTSIGN_PFX_PASSWORD;
            return await runSign(buildSignConfig(inputs, positionals), io, env);
        }
        if (command === 'verify') {
            const { values, positionals } = parse(rest, parseOptions(VERIFY_OPTIONS));
            if (positionals.length === 0)
                throw new UserError('verify: no files given');
            return await runVerify(values['ca-file'], positionals, io);
        }
        throw new UserError(`unknown command "${command}" (use sign or verify; see vaultsign --help)`);
    }
    catch (error) {
        io.err(`error: ${messageOf(error)}`);
        return error instanceof UserError ? USAGE : 1;
    }
}
