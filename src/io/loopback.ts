import { isIP } from 'node:net';

/** A host name or address of this machine's loopback interface, where plain HTTP leaves no machine. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}
