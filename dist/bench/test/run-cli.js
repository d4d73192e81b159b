import { execFile } from 'node:child_process';
import { CLI } from './paths.js';
/** Runs the shipped bundle (dist/cli.js) the way a user does, with the Node running the tests. */
export function runCli(args, options = {}) {
    return new Promise((resolve) => {
        execFile(process.execPath, [CLI, ...args], { ...options, env: { ...process.env, ...options.env } }, (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
            resolve({ code, stdout, stderr });
        });
    });
}
