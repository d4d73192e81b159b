/**
 * The benchmark's RFC 3161 responder in a process of its own, so its CPU is not the benchmark's:
 * `node pkijs-tsa-process.js <tsa.pem> <tsa.key> <intermediate.pem> <latencyMs>` prints its URL.
 */
import { startPkijsTsa } from '../test/pkijs-tsa.js';

const [cert, key, intermediate, latency] = process.argv.slice(2);
const tsa = await startPkijsTsa({ cert, key, intermediate, latencyMs: Number(latency) });
console.log(tsa.url);
