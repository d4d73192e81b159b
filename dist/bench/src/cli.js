#!/usr/bin/env node
import { main } from './cli/main.js';
process.exitCode = await main(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
});
