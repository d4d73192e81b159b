import { count, runSigning } from '../pipeline/run-signing.js';
function line(result) {
    const seconds = (result.durationMs / 1000).toFixed(2);
    const when = result.timestamp ? `, timestamp ${result.timestamp.toISOString()}` : '';
    return `${result.status.padEnd(7)} ${result.path}: ${result.detail}${when} (${seconds} s)`;
}
export async function runSign(config, io, env) {
    const { results } = await runSigning(config, {
        env,
        // The terminal is the user's own: nothing to mask, and nothing secret is ever printed.
        mask: () => undefined,
        reporter: {
            info: io.out,
            warning: (message) => io.err(`warning: ${message}`),
            fileDone: (result) => (result.status === 'failed' ? io.err : io.out)(line(result)),
        },
    });
    if (config.dryRun)
        return 0;
    io.out(`${count(results, 'signed')} signed, ${count(results, 'skipped')} skipped, ${count(results, 'failed')} failed`);
    return count(results, 'failed') > 0 ? 1 : 0;
}
