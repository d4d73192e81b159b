#!/usr/bin/env node
import { main } from './cli/main.js';
import { dropDebugCommands } from './cli/quiet-debug.js';

dropDebugCommands(process.stdout, process.env);
process.exitCode = await main(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
