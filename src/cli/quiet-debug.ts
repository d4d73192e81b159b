/**
 * @actions/glob reports through core.debug, which writes "::debug::…" lines to stdout wherever it runs;
 * only the Actions runner reads them (and hides them unless debug logging is on). Outside a runner they
 * are noise in the user's terminal, so the CLI drops them there.
 */
export function dropDebugCommands(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): void {
  if (env.GITHUB_ACTIONS === 'true') return;
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && chunk.startsWith('::debug::')
      ? true
      : write(chunk, ...rest)) as typeof stream.write;
}
