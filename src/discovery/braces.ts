/**
 * Brace expansion for globs (`*.{dll,exe}` → `*.dll`, `*.exe`), which @actions/glob does not do: such a
 * pattern would match nothing without a word. Nested groups expand too; a group without a comma stays
 * as written, like in bash.
 */
import { UserError } from '../errors.js';

const MAX_PATTERNS = 1000;

/** The first `{…}` group with a top-level comma: its bounds and its alternatives. */
function firstGroup(pattern: string): { start: number; end: number; options: string[] } | undefined {
  for (let start = pattern.indexOf('{'); start !== -1; start = pattern.indexOf('{', start + 1)) {
    let depth = 0;
    let from = start + 1;
    const options: string[] = [];
    for (let i = start; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        if (options.length === 0) break;
        options.push(pattern.slice(from, i));
        return { start, end: i, options };
      } else if (c === ',' && depth === 1) {
        options.push(pattern.slice(from, i));
        from = i + 1;
      }
    }
  }
  return undefined;
}

export function expandBraces(pattern: string): string[] {
  const group = firstGroup(pattern);
  if (!group) return [pattern];
  const head = pattern.slice(0, group.start);
  const tail = pattern.slice(group.end + 1);
  const expanded = group.options.flatMap((option) => expandBraces(head + option + tail));
  if (expanded.length > MAX_PATTERNS)
    throw new UserError(
      `the glob "${pattern}" expands to more than ${MAX_PATTERNS} patterns: list fewer alternatives in braces`,
    );
  return expanded;
}
